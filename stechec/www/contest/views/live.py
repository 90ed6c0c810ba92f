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


# What changes every second on the status page: set in place by `status_text`, left
# out of its state.
HEARTBEAT_KEYS = ("heartbeat_age", "last_heartbeat", "heartbeat_text")
AGE_KEYS = ("seconds", "duration_text")
QUEUE_AGE_KEYS = ("oldest_waiting_secs", "oldest_waiting_text")


def status_state(context):
    """A digest of the status page's data but the ages (heartbeats, running tasks, the
    oldest waiting task), which `status_text` updates in place."""
    data = context.get("status") or {}
    workers = [{**{k: v for k, v in w.items() if k not in HEARTBEAT_KEYS},
                "running": [{k: v for k, v in t.items() if k not in AGE_KEYS}
                            for t in w.get("running", [])]}
               for w in data.get("workers", [])]
    data = {k: v for k, v in data.items() if k not in QUEUE_AGE_KEYS}
    return _digest([context.get("error"), {**data, "workers": workers}])


def heartbeat_text(worker):
    age = worker.get("heartbeat_age")
    return "–" if age is None else _("%(age)s s ago") % {"age": age}


def duration_text(seconds):
    """`seconds` (a number, or None when unknown) as the status page shows it."""
    if seconds is None:
        return "–"
    seconds = int(seconds)
    if seconds < 60:
        return _("%(seconds)d s") % {"seconds": seconds}
    if seconds < 3600:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": seconds // 60,
                                                     "seconds": seconds % 60}
    return _("%(hours)d h %(minutes)d min") % {"hours": seconds // 3600,
                                               "minutes": seconds % 3600 // 60}


def status_text(context):
    data = context.get("status") or {}
    workers = data.get("workers", [])
    text = {f"heartbeat-{i}": w["heartbeat_text"] for i, w in enumerate(workers, 1)}
    text.update({f"running-{i}-{j}": t["duration_text"] for i, w in enumerate(workers, 1)
                 for j, t in enumerate(w.get("running", []), 1)})
    if data:
        text["oldest-waiting"] = data["oldest_waiting_text"]
    return text


def status_context():
    try:
        status = master_status()
    except MasterUnavailable as e:
        return {"error": str(e)}
    for worker in status["workers"]:
        worker["heartbeat_text"] = heartbeat_text(worker)
        for task in worker.get("running") or []:
            task["duration_text"] = duration_text(task.get("seconds"))
    status["oldest_waiting_text"] = duration_text(status["oldest_waiting_secs"])
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
