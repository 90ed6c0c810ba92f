"""Naming a champion in the match form: by its player, as players know them.

`bob` is bob's latest ready champion (bob: a user name, or a display name,
which no other player's name can equal), `bob/sly` his latest ready one named
sly; a number (`12`, `#12`), or anything ending in ` #12` (what the
suggestions fill in, `bob/sly #12`), is that champion (docs/website.md,
"Starting a match").
"""

import re

from django.db.models import Max, Q

from stechec.contest.models import Champion, shown_name
from stechec.www.contest import conf

# A number alone, or after a space: "12", "#12", "bob/sly #12" (not the 2 of "bob/bot 2").
_NUMBER = re.compile(r"#?(\d+)|.*\s#(\d+)")
# Larger ids cannot exist (64-bit keys) and make the database raise.
MAX_ID = 2**63 - 1
# Suggestions sent for one search.
SUGGESTIONS = 20


def ready_champions(user):
    """The champions `user` may put in a match: ready, not deleted, and their own when
    website.own_champions_only holds (staff may use any)."""
    ready = Champion.objects.visible().filter(status=Champion.Status.READY)
    if conf.website()["own_champions_only"] and not user.is_staff:
        ready = ready.filter(author=user)
    return ready


def may_challenge(user):
    """Whether `user` may put another player's champion in a match (a "Challenge" button)."""
    return user.is_authenticated and (not conf.website()["own_champions_only"]
                                      or user.is_staff)


def label(champion):
    """How the form shows a champion, which find() reads back: "bob/sly #12"."""
    return f"{champion.author.username}/{champion.name} #{champion.pk}"


def find(ready, text):
    """The champion of `ready` that `text` names, or None."""
    text = text.strip()
    number = _NUMBER.fullmatch(text)
    if number:
        pk = int(number.group(1) or number.group(2))
        return ready.filter(pk=pk).first() if pk <= MAX_ID else None
    username, slash, name = text.partition("/")
    named = ready.filter(author__username=username.strip())
    if slash:
        named = named.filter(name=name.strip())
    latest = named.select_related("author").order_by("-id").first()
    if latest is None and text:
        latest = (ready.filter(author__profile__display_name__iexact=text)
                  .select_related("author").order_by("-id").first())
    return latest


def suggestions(ready, query):
    """What the form offers for `query`: each matching player's latest ready champion
    (filled in as the player's name), then the latest matching champions by name."""
    query = query.strip()
    if not query:
        return []
    player = (Q(author__username__icontains=query)
              | Q(author__profile__display_name__icontains=query))
    by_player = ready.filter(player).values("author").annotate(
        latest=Max("id")).order_by("author__username").values_list("latest", flat=True)
    latest = ready.filter(pk__in=list(by_player[:SUGGESTIONS])) \
        .select_related("author__profile").order_by("author__username")
    found = [{"value": c.author.username,
              "label": f"{shown_name(c.author)}'s latest ready champion: {c.name} #{c.pk}"}
             for c in latest]
    named = (ready.filter(Q(name__icontains=query) | player)
             .select_related("author").order_by("-id")[:SUGGESTIONS - len(found)])
    found += [{"value": label(c), "label": f"uploaded {c.ts:%Y-%m-%d %H:%M}"} for c in named]
    return found
