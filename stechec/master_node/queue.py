"""The task queue, which is the database: what the master reads there.

`fetch_new` reads the `new` tasks to place on workers and `counts` the
queue's sizes; every status change (claiming a task, giving it back,
applying its result) is stechec.contest.transitions'. Each runs on a
database greenlet inside one transaction (see database.py).
"""

import datetime

from django.db import connection
from django.db.models import Count, Min, Q
from django.utils import timezone

from stechec.common.tasks import Kind
from stechec.contest.models import Champion, Match, Priority


class QueuedTask:
    """A `new` task read from the queue, not placed on a worker yet."""

    def __init__(self, kind, task_id, attempts, slots, payload, queued=None):
        self.kind = kind
        self.id = task_id
        # Attempts so far: the next one is numbered attempts + 1.
        self.attempts = attempts
        self.slots = slots
        # The task as the worker gets it, less `attempt` and `slots`.
        self.payload = payload
        # When its row was created (an aware datetime), for the commit-to-worker latency.
        self.queued = queued

    @property
    def key(self):
        return self.kind, self.id


# fetch_new's first statement; parameters: new, now, limit, new, now, limit. Columns: is a
# match, id, attempts, user, options, map, priority, created. The matches fill what room the
# compilations leave.
NEW_TASKS_SQL = (
    "WITH champions AS (SELECT stechec_champion.id AS id, "
    "stechec_champion.attempts AS attempts, auth_user.username AS username, "
    "stechec_champion.ts AS ts "
    "FROM stechec_champion JOIN auth_user ON auth_user.id = stechec_champion.author_id "
    "WHERE stechec_champion.status = %s AND (stechec_champion.not_before IS NULL "
    "OR stechec_champion.not_before <= %s) ORDER BY stechec_champion.id LIMIT %s) "
    "SELECT 0, id, attempts, username, NULL, NULL, 0, ts FROM champions UNION ALL "
    "SELECT * FROM (SELECT 1, stechec_match.id, stechec_match.attempts, NULL, "
    "stechec_match.options, stechec_map.contents, stechec_match.priority, stechec_match.ts "
    "FROM stechec_match LEFT JOIN stechec_map ON stechec_map.id = stechec_match.map_id "
    "WHERE stechec_match.status = %s AND (stechec_match.not_before IS NULL "
    "OR stechec_match.not_before <= %s) "
    "ORDER BY stechec_match.priority DESC, stechec_match.id "
    "LIMIT (%s - (SELECT COUNT(*) FROM champions))) AS matches "
    "ORDER BY 1, 7 DESC, 2")
# fetch_new's second statement; {ids}: one %s per match. Columns: match id, matchplayer id,
# champion id, user.
NEW_MATCH_PLAYERS_SQL = (
    "SELECT stechec_matchplayer.match_id, stechec_matchplayer.id, "
    "stechec_matchplayer.champion_id, auth_user.username FROM stechec_matchplayer "
    "JOIN stechec_champion ON stechec_champion.id = stechec_matchplayer.champion_id "
    "JOIN auth_user ON auth_user.id = stechec_champion.author_id "
    "WHERE stechec_matchplayer.match_id IN ({ids}) ORDER BY stechec_matchplayer.id")


def fetch_new(limit, client_slots):
    """Up to `limit` new tasks: compilations first (a player waits on them), then matches
    by priority, then age; none still waiting out its retry delay (`not_before`).

    Plain SQL, both queues in one statement and the matches' players in a
    second only when there are matches: the ORM took a millisecond of the
    master's time per claim to build its queries, more than the database took
    to answer them, and each round trip to the database delays the claim.
    """
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(NEW_TASKS_SQL, [Champion.Status.NEW, now, limit,
                                       Match.Status.NEW, now, limit])
        rows = cursor.fetchall()
        tasks = [QueuedTask(Kind.COMPILE, pk, attempts, 1, {"champion_id": pk, "user": user},
                            _created(ts))
                 for is_match, pk, attempts, user, _, _, _, ts in rows if not is_match]
        matches = [row[1:] for row in rows if row[0]]
        if matches:
            tasks += _queued_matches(cursor, matches, client_slots)
    return tasks


# due_at_least's statement; parameters: new, now, count, new, now, count. Its one column:
# how many tasks fetch_new could read, counted up to `count` in each table.
DUE_TASKS_SQL = (
    "SELECT (SELECT COUNT(*) FROM (SELECT stechec_champion.id FROM stechec_champion "
    "WHERE stechec_champion.status = %s AND (stechec_champion.not_before IS NULL "
    "OR stechec_champion.not_before <= %s) LIMIT %s) AS champions) "
    "+ (SELECT COUNT(*) FROM (SELECT stechec_match.id FROM stechec_match "
    "WHERE stechec_match.status = %s AND (stechec_match.not_before IS NULL "
    "OR stechec_match.not_before <= %s) LIMIT %s) AS matches)")


def due_at_least(count):
    """Whether at least `count` tasks are `new` and past their retry delay (fetch_new's)."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(DUE_TASKS_SQL, [Champion.Status.NEW, now, count,
                                       Match.Status.NEW, now, count])
        return cursor.fetchone()[0] >= count


def _queued_matches(cursor, matches, client_slots):
    ids = [m[0] for m in matches]
    cursor.execute(NEW_MATCH_PLAYERS_SQL.format(ids=", ".join(["%s"] * len(ids))), ids)
    players = {}
    for match_id, matchplayer_id, champion_id, user in cursor.fetchall():
        players.setdefault(match_id, []).append({
            "matchplayer_id": matchplayer_id, "champion_id": champion_id, "user": user})
    return [QueuedTask(Kind.MATCH, pk, attempts, 1 + len(players.get(pk, [])) * client_slots,
                       {"match_id": pk, "map": contents, "options": options,
                        "players": players.get(pk, [])}, _created(ts))
            for pk, attempts, _, options, contents, _, ts in matches]


def _created(ts):
    """A row's `ts` as the raw cursor gives it (SQLite: text) as an aware datetime."""
    if isinstance(ts, str):
        ts = datetime.datetime.fromisoformat(ts)
    if ts is not None and timezone.is_naive(ts):
        ts = timezone.make_aware(ts, datetime.UTC)
    return ts


def counts():
    """Queue sizes for `status()`, and the age of its oldest `new` task in seconds."""
    champions = Champion.objects.aggregate(
        new=Count("pk", filter=Q(status=Champion.Status.NEW)),
        pending=Count("pk", filter=Q(status=Champion.Status.PENDING)))
    new = Q(status=Match.Status.NEW)
    matches = Match.objects.aggregate(
        player=Count("pk", filter=new & Q(priority__gte=Priority.PLAYER)),
        tournament=Count("pk", filter=new & Q(priority__gte=Priority.TOURNAMENT,
                                              priority__lt=Priority.PLAYER)),
        background=Count("pk", filter=new & Q(priority__lt=Priority.TOURNAMENT)),
        pending=Count("pk", filter=Q(status=Match.Status.PENDING)))
    oldest = oldest_new()
    return {"champions": champions,
            "matches": {"new": {k: matches[k] for k in ("player", "tournament", "background")},
                        "pending": matches["pending"]},
            "oldest_waiting_secs": None if oldest is None
            else round(max(0.0, (timezone.now() - oldest).total_seconds()), 1)}


def waiting():
    """The `new` tasks for the metrics: {(kind, priority name): count}, and when the
    oldest of them was created (None when none waits)."""
    # Compilations are served before any match: a player waits on each.
    sizes = {(Kind.COMPILE, "player"): Champion.objects.filter(
        status=Champion.Status.NEW).count()}
    for priority in Priority:
        sizes[Kind.MATCH, priority.label] = 0
    rows = Match.objects.filter(status=Match.Status.NEW).values("priority").annotate(
        count=Count("pk"))
    for row in rows:
        sizes[Kind.MATCH, Priority(row["priority"]).label] = row["count"]
    return sizes, oldest_new()


def oldest_new():
    """When the oldest `new` task was created (None when none waits)."""
    oldest = [Model.objects.filter(status=Model.Status.NEW).aggregate(oldest=Min("ts"))["oldest"]
              for Model in (Champion, Match)]
    return min((ts for ts in oldest if ts is not None), default=None)
