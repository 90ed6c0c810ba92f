"""Template helpers for the lists' busiest cells.

A match list page shows 50 matches of up to 4 players each: built here in
one pass instead of a dozen template lookups and escapes per player, the page
renders several times faster.
"""

import functools
from html import escape

from django import template
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from stechec.common import verdicts
from stechec.contest import reasons
from stechec.contest.models import shown_name

register = template.Library()


@register.filter
def player_name(user):
    """The name a page shows for a user: their display name, else their user name."""
    return shown_name(user) if user is not None else "–"


@register.filter
def verdict_words(verdict):
    """How a program ended, in a player's words (stechec.common.verdicts)."""
    return verdicts.describe(verdict)


@register.simple_tag
def reason_words(text, detail):
    """A stored reason (a failure's, a tournament's wait) in the reader's language
    (stechec.contest.reasons)."""
    return reasons.shown(text, detail)


@register.simple_tag
def timeout_words(player):
    """A match player's timeouts in words (stechec.common.verdicts.timeouts)."""
    return verdicts.timeouts(player.nb_timeout, player.verdict)


@register.filter
def verdict_usage(verdict):
    """What a program used: CPU and wall time, peak memory."""
    return verdicts.usage(verdict)


@register.simple_tag
def match_players(match, champions_url):
    """The players of a match from with_players(), each linked to champions_url<id>/,
    with its author and score."""
    cells = []
    for player in match.player_rows:
        score = f" <b>{player.score}</b>" if player.score is not None else ""
        cells.append(f'<a href="{escape(champions_url)}{player.champion_id}/">'
                     f"{escape(player.champion_name)}</a> "
                     f"<small>({escape(player.author_name)})</small>{score}")
    return mark_safe(" · ".join(cells))


@register.simple_tag
def status_badge(obj):
    return format_html('<span class="status status-{}">{}</span>', obj.status,
                       obj.get_status_display())


# The letters of the language's SHORT_DATETIME_FORMAT (stechec/www/formats) as strftime's.
_STRFTIME = {"Y": "%Y", "m": "%m", "d": "%d", "H": "%H", "i": "%M"}


@functools.cache
def _strftime_pattern(django_format):
    return "".join(_STRFTIME.get(letter, letter) for letter in django_format)


@register.filter
def short_time(value):
    """A list's date, as the `date:"SHORT_DATETIME_FORMAT"` filter would show it in the
    reader's language, ten times cheaper."""
    if value is None:
        return ""
    pattern = _strftime_pattern(get_format("SHORT_DATETIME_FORMAT"))
    return timezone.localtime(value).strftime(pattern)


@register.filter
def duration(seconds):
    """An estimate's length as a person reads it: 45 s, 12 min, 3 h 05 min."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return "{} h {:02d} min".format(*divmod(minutes, 60))
