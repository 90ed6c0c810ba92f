"""What visitors without an account may read: the results, while `website.public_results`.

The leaderboard, tournaments, and finished tournament matches with their
replays. Champions' sources, compile logs and player logs stay with their
authors and staff whatever the setting (docs/website.md, "Public results").
"""

import functools

from django.contrib.auth.views import redirect_to_login
from django.db.models import Q

from stechec.contest.models import Match
from stechec.www.contest import conf


def results_are_public():
    return conf.website()["public_results"]


def public_results_or_login(is_public=None):
    """A view visitors may open without logging in while results are public; with
    `is_public(request, **kwargs)`, only for what it accepts (the rest sends them to the
    log-in page, as every page did before)."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.is_authenticated or (
                    results_are_public() and (is_public is None or is_public(request, **kwargs))):
                return view(request, *args, **kwargs)
            return redirect_to_login(request.get_full_path())
        return wrapper
    return decorate


def is_public_match(match):
    """A finished tournament match: its page and replay are results."""
    return (results_are_public() and match.tournament_id is not None
            and match.status == Match.Status.DONE)


# The matches whose page and replay anyone may read while results are public.
PUBLIC_MATCHES = Q(tournament__isnull=False, status=Match.Status.DONE)


def public_match_id(request, pk, **_):
    return Match.objects.filter(PUBLIC_MATCHES, pk=pk).exists()


def tournament_filter(request, mine=False, **_):
    """A match list of one tournament: what its public page links to."""
    return "tournament" in request.GET and not mine


def context(request):
    """For the menu: which pages a visitor without an account may open."""
    return {"public_results": results_are_public()}
