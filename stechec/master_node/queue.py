"""The task queue, which is the database: what the master reads and writes there.

Every function here runs on a database greenlet inside one transaction (see
database.py). Writes are conditional on the row's state (`new`, or `pending`
with a given attempt number), so that running one twice changes nothing.
"""

from django.db.models import Case, Count, F, Q, Value, When
from django.utils import timezone

from stechec.www.contest.models import Champion, Match, MatchPlayer, Priority, retry_or_fail

COMPILE = "compile"
MATCH = "match"
MODELS = {COMPILE: Champion, MATCH: Match}


class Candidate:
    """A `new` task read from the queue, not placed on a worker yet."""

    def __init__(self, kind, task_id, slots, payload):
        self.kind = kind
        self.id = task_id
        self.slots = slots
        # The task as the worker gets it, less `attempt` and `slots`.
        self.payload = payload


def fetch_new(limit, client_slots):
    """Up to `limit` new tasks: compilations first (a player waits on them), then matches
    by priority, then age."""
    champions = Champion.objects.filter(status=Champion.Status.NEW).order_by("id")\
        .values_list("id", "author__username")[:limit]
    candidates = [Candidate(COMPILE, pk, 1, {"champion_id": pk, "user": user})
                  for pk, user in champions]
    if len(candidates) < limit:
        candidates += _fetch_new_matches(limit - len(candidates), client_slots)
    return candidates


def _fetch_new_matches(limit, client_slots):
    matches = list(Match.objects.filter(status=Match.Status.NEW).order_by("-priority", "id")
                   .values_list("id", "options", "map__contents")[:limit])
    players = {}
    for row in MatchPlayer.objects.filter(match_id__in=[m[0] for m in matches])\
            .order_by("id").values("match_id", "id", "champion_id", "champion__author__username"):
        players.setdefault(row["match_id"], []).append({
            "matchplayer_id": row["id"], "champion_id": row["champion_id"],
            "user": row["champion__author__username"]})
    return [Candidate(MATCH, pk, 1 + len(players.get(pk, [])) * client_slots,
                      {"match_id": pk, "map": contents, "options": options,
                       "players": players.get(pk, [])})
            for pk, options, contents in matches]


def mark_pending(kind, placements):
    """Move placed `new` tasks to `pending` with their next attempt number and worker.

    `placements` maps task ids to worker names; returns {id: attempt} for the
    rows that were still `new` (all of them, unless someone else took one).
    """
    model = MODELS[kind]
    ids = list(placements)
    fields = {"status": "pending", "attempts": F("attempts") + 1,
              "worker": Case(*(When(pk=pk, then=Value(name)) for pk, name in placements.items()))}
    if kind == MATCH:
        fields["started_at"] = timezone.now()
        fields["finished_at"] = None
    model.objects.filter(pk__in=ids, status="new").update(**fields)
    return {pk: attempts for pk, attempts, worker in
            model.objects.filter(pk__in=ids, status="pending")
            .values_list("pk", "attempts", "worker") if worker == placements[pk]}


def give_back(tasks, reason, max_tries):
    """Put pending attempts (kind, id, attempt) back to `new`, `failed` past `max_tries`."""
    extra = {MATCH: {"started_at": None}, COMPILE: {}}
    return [retry_or_fail(MODELS[kind], pk, attempt, reason, max_tries=max_tries, **extra[kind])
            for kind, pk, attempt in tasks]


def undo_attempt(kind, pk, attempt, reason):
    """A worker refused the task (nothing started): back to `new`, the attempt not counted."""
    return MODELS[kind].objects.filter(pk=pk, status="pending", attempts=attempt)\
        .update(status="new", attempts=attempt - 1, failure_reason=reason) == 1


def reset_pending():
    """On start: the previous master's attempts are lost with it; their tasks go back to `new`."""
    reason = "master node restarted"
    return (Champion.objects.filter(status="pending").update(status="new", failure_reason=reason),
            Match.objects.filter(status="pending").update(status="new", failure_reason=reason,
                                                          started_at=None))


def apply_results(items):
    """Apply worker results (kind, id, attempt, result, max_tries); True/False/error per item."""
    outcomes = []
    for kind, pk, attempt, result, max_tries in items:
        try:
            if kind == COMPILE:
                outcomes.append(Champion.apply_compilation_result(pk, attempt, result,
                                                                  max_tries=max_tries))
            else:
                outcomes.append(Match.apply_result(pk, attempt, result, max_tries=max_tries))
        except ValueError as e:
            outcomes.append(e)
    return outcomes


def counts():
    """Queue sizes for `status()`."""
    champions = Champion.objects.aggregate(
        new=Count("pk", filter=Q(status="new")), pending=Count("pk", filter=Q(status="pending")))
    matches = Match.objects.aggregate(
        player=Count("pk", filter=Q(status="new", priority__gte=Priority.PLAYER)),
        tournament=Count("pk", filter=Q(status="new", priority__gte=Priority.TOURNAMENT,
                                        priority__lt=Priority.PLAYER)),
        background=Count("pk", filter=Q(status="new", priority__lt=Priority.TOURNAMENT)),
        pending=Count("pk", filter=Q(status="pending")))
    return {"champions": champions,
            "matches": {"new": {k: matches[k] for k in ("player", "tournament", "background")},
                        "pending": matches["pending"]}}
