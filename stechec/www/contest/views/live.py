"""Live pages: what a page waiting on the cluster polls to know it changed.

A live page (a champion compiling, a match running, a tournament in progress,
the cluster status) carries its JSON URL and the state it was rendered from;
`static/stechec/live.js` polls that URL with backoff (250 ms growing by half to 4 s
while nothing changes, back to 250 ms on a change) and, when the state differs,
fetches the page again and swaps its content in, without reloading it. Each
answer is one small query (the status page: the master's status()), so polling
costs little (docs/website.md, "Live pages").
"""

import hashlib
import json

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from stechec.contest.models import Champion, Match, Tournament
from stechec.www.contest.cluster import MasterUnavailable, master_status
from stechec.www.contest.public import public_match_id, public_results_or_login


def page_context(url, state, live):
    """What a page's template needs to become live: None once it waits on nothing."""
    return {"url": url, "state": state} if live else None


def _answer(state, live, text=None):
    """`text`: element id to new text, updated in place without counting as a change
    (the status page's heartbeat ages, which change every second)."""
    return JsonResponse({"state": state, "live": live, "text": text or {}})


def _digest(document):
    """A short digest of what a page shows, as its state."""
    text = json.dumps(document, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def champion_state(champion):
    return f"{champion.status}/{champion.attempts}"


def match_state(match):
    return f"{match.status}/{match.attempts}"


def tournament_state(tournament):
    """The tournament's status and waiting reason, and how many of its matches are in
    each status: what its page shows, but for the estimate of the time left."""
    counts = (Match.objects.filter(tournament=tournament).values_list("status")
              .annotate(n=Count("id")).order_by("status"))
    return _digest([tournament.status, tournament.waiting_reason, list(counts)])


HEARTBEAT_KEYS = ("heartbeat_age", "last_heartbeat", "heartbeat_text")


def status_state(context):
    """A digest of the status page's data but the heartbeat ages, which `status_text`
    updates in place."""
    data = context.get("status") or {}
    workers = [{k: v for k, v in w.items() if k not in HEARTBEAT_KEYS}
               for w in data.get("workers", [])]
    return _digest([context.get("error"), {**data, "workers": workers}])


def heartbeat_text(worker):
    age = worker.get("heartbeat_age")
    return "–" if age is None else _("%(age)s s ago") % {"age": age}


def status_text(context):
    workers = (context.get("status") or {}).get("workers", [])
    return {f"heartbeat-{i}": w["heartbeat_text"] for i, w in enumerate(workers, 1)}


def status_context():
    try:
        status = master_status()
    except MasterUnavailable as e:
        return {"error": str(e)}
    for worker in status["workers"]:
        worker["heartbeat_text"] = heartbeat_text(worker)
    return {"status": status}


@login_required
@never_cache
def champion_live(request, pk):
    champion = get_object_or_404(Champion.objects.only("status", "attempts", "deleted"), pk=pk)
    if champion.deleted and not request.user.is_staff:
        return JsonResponse({"error": _("No such champion.")}, status=404)
    return _answer(champion_state(champion), champion.in_progress)


@public_results_or_login(public_match_id)
@never_cache
def match_live(request, pk):
    match = get_object_or_404(Match.objects.only("status", "attempts"), pk=pk)
    return _answer(match_state(match), match.in_progress)


@public_results_or_login()
@never_cache
def tournament_live(request, pk):
    tournament = get_object_or_404(Tournament, pk=pk)
    return _answer(tournament_state(tournament), tournament.status == Tournament.Status.RUNNING)


@login_required
@never_cache
def status_live(request):
    context = status_context()
    return _answer(status_state(context), True, status_text(context))


def status_page_context():
    context = status_context()
    context["live"] = page_context(reverse("cluster-status-live"), status_state(context), True)
    return context
