"""The task queue, which is the database: what the master reads and writes there.

Every function here runs on a database greenlet inside one transaction (see
database.py). Writes are conditional on the row's state (`new`, or `pending`
with a given attempt number), so that running one twice changes nothing.
"""

import functools

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, F, Q
from django.utils import timezone

from stechec.common import tasks
from stechec.common.tasks import Kind, Status
from stechec.www.contest import champion_ratings
from stechec.www.contest.models import Champion, Map, Match, MatchPlayer, Priority, retry_or_fail

MODELS = {Kind.COMPILE: Champion, Kind.MATCH: Match}


class Candidate:
    """A `new` task read from the queue, not placed on a worker yet."""

    def __init__(self, kind, task_id, attempts, slots, payload):
        self.kind = kind
        self.id = task_id
        # Attempts so far: the next one is numbered attempts + 1.
        self.attempts = attempts
        self.slots = slots
        # The task as the worker gets it, less `attempt` and `slots`.
        self.payload = payload

    @property
    def key(self):
        return self.kind, self.id


def fetch_new(limit, client_slots):
    """Up to `limit` new tasks: compilations first (a player waits on them), then matches
    by priority, then age; none still waiting out its retry delay (`not_before`).

    Plain SQL (from the models' own table and column names), both queues in
    one query and the matches' players in a second only when there are
    matches: the ORM took a millisecond of the master's time per claim to
    build its queries, more than the database took to answer them, and each
    round trip to the database delays the claim.
    """
    sql = _queue_sql(connection.vendor)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(sql["tasks"], [now, limit, now, limit])
        rows = cursor.fetchall()
        candidates = [Candidate(Kind.COMPILE, pk, attempts, 1, {"champion_id": pk, "user": user})
                      for is_match, pk, attempts, user, _, _, _ in rows if not is_match]
        matches = [row[1:] for row in rows if row[0]]
        if matches:
            candidates += _match_candidates(cursor, sql, matches, client_slots)
    return candidates


def _match_candidates(cursor, sql, matches, client_slots):
    ids = [m[0] for m in matches]
    cursor.execute(sql["players"].format(ids=", ".join(["%s"] * len(ids))), ids)
    players = {}
    for match_id, matchplayer_id, champion_id, user in cursor.fetchall():
        players.setdefault(match_id, []).append({
            "matchplayer_id": matchplayer_id, "champion_id": champion_id, "user": user})
    return [Candidate(Kind.MATCH, pk, attempts, 1 + len(players.get(pk, [])) * client_slots,
                      {"match_id": pk, "map": contents, "options": options,
                       "players": players.get(pk, [])})
            for pk, attempts, _, options, contents, _ in matches]


@functools.cache
def _queue_sql(vendor):
    """fetch_new's queries for one database `vendor`, written from the models' metadata."""
    quote = connection.ops.quote_name

    def table(model):
        return quote(model._meta.db_table)

    def column(model, field):
        return quote(model._meta.get_field(field).column)

    def ready(model):
        """Not waiting out a retry delay (%s: now)."""
        not_before = f"{table(model)}.{column(model, 'not_before')}"
        return f"({not_before} IS NULL OR {not_before} <= %s)"

    user = get_user_model()
    champion, match, player, game_map = (table(m) for m in (Champion, Match, MatchPlayer, Map))
    users = table(user)
    username = f"{users}.{column(user, 'username')}"
    # Columns: is a match, id, attempts, user, options, map, priority. The
    # matches fill what room the compilations leave.
    return {
        "tasks":
            f"WITH champions AS (SELECT {champion}.{column(Champion, 'id')} AS id, "
            f"{champion}.{column(Champion, 'attempts')} AS attempts, {username} AS username "
            f"FROM {champion} JOIN {users} ON "
            f"{users}.{column(user, 'id')} = {champion}.{column(Champion, 'author')} "
            f"WHERE {champion}.{column(Champion, 'status')} = '{Status.NEW}' "
            f"AND {ready(Champion)} "
            f"ORDER BY {champion}.{column(Champion, 'id')} LIMIT %s) "
            f"SELECT 0, id, attempts, username, NULL, NULL, 0 FROM champions UNION ALL "
            f"SELECT * FROM (SELECT 1, {match}.{column(Match, 'id')}, "
            f"{match}.{column(Match, 'attempts')}, NULL, {match}.{column(Match, 'options')}, "
            f"{game_map}.{column(Map, 'contents')}, {match}.{column(Match, 'priority')} "
            f"FROM {match} LEFT JOIN {game_map} ON {game_map}.{column(Map, 'id')} = "
            f"{match}.{column(Match, 'map')} WHERE {match}.{column(Match, 'status')} = '{Status.NEW}' "
            f"AND {ready(Match)} "
            f"ORDER BY {match}.{column(Match, 'priority')} DESC, {match}.{column(Match, 'id')} "
            f"LIMIT (%s - (SELECT COUNT(*) FROM champions))) AS matches "
            f"ORDER BY 1, 7 DESC, 2",
        "players":
            f"SELECT {player}.{column(MatchPlayer, 'match')}, {player}."
            f"{column(MatchPlayer, 'id')}, {player}.{column(MatchPlayer, 'champion')}, "
            f"{username} FROM {player} JOIN {champion} ON {champion}.{column(Champion, 'id')} "
            f"= {player}.{column(MatchPlayer, 'champion')} JOIN {users} ON "
            f"{users}.{column(user, 'id')} = {champion}.{column(Champion, 'author')} "
            f"WHERE {player}.{column(MatchPlayer, 'match')} IN ({{ids}}) "
            f"ORDER BY {player}.{column(MatchPlayer, 'id')}",
    }


def mark_pending(kind, placements):
    """Move placed `new` tasks to `pending`, each with its next attempt number and its worker.

    `placements` is a list of (id, attempt, worker name); returns the ids
    moved, which are all of them unless a row stopped being `new` since it
    was read. One statement for the batch, written out by hand: the ORM's
    per-row CASE costs more than the rest of dispatching.
    """
    model = MODELS[kind]
    table = connection.ops.quote_name(model._meta.db_table)
    ids = [pk for pk, _, _ in placements]
    cases = " ".join(["WHEN %s THEN %s"] * len(placements))
    params = [value for pk, _, name in placements for value in (pk, name)]
    extra = ""
    if kind == Kind.MATCH:
        extra = ", started_at = %s, finished_at = NULL"
        params.append(timezone.now())
    in_ids = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET status = '{Status.PENDING}', "
                       f"attempts = attempts + 1, worker = CASE id {cases} END{extra} "
                       f"WHERE id IN ({in_ids}) AND status = '{Status.NEW}'", params + ids)
        if cursor.rowcount == len(ids):
            return set(ids)
    return marked(kind, placements)


def marked(kind, placements):
    """The ids of `placements` (id, attempt, worker name) that are `pending` as
    mark_pending marks them."""
    wanted = set(placements)
    return {pk for pk, attempts, worker in MODELS[kind].objects.filter(
        pk__in=[pk for pk, _, _ in placements], status=Status.PENDING).values_list(
        "pk", "attempts", "worker") if (pk, attempts, worker) in wanted}


def give_back(tasks, reason, max_tries, first_delay):
    """Put pending attempts (kind, id, attempt) back to `new` (claimed again after a delay,
    models.retry_delay), `failed` past `max_tries`."""
    extra = {Kind.MATCH: {"started_at": None}, Kind.COMPILE: {}}
    return [retry_or_fail(MODELS[kind], pk, attempt, reason, max_tries=max_tries,
                          first_delay=first_delay, **extra[kind])
            for kind, pk, attempt in tasks]


def undo_attempt(kind, pk, attempt, reason):
    """A worker refused the task (nothing started): back to `new`, the attempt not counted."""
    return MODELS[kind].objects.filter(pk=pk, status=Status.PENDING, attempts=attempt).update(
        status=Status.NEW, uncounted_attempts=F("uncounted_attempts") + 1, failure_reason=reason) == 1


def reset_pending():
    """On start: the previous master's attempts are lost with it; their tasks go back to `new`,
    those attempts not counted (the tasks were not at fault, nor perhaps their workers)."""
    back = {"status": Status.NEW, "failure_reason": "master node restarted",
            "uncounted_attempts": F("uncounted_attempts") + 1}
    return (Champion.objects.filter(status=Status.PENDING).update(**back),
            Match.objects.filter(status=Status.PENDING).update(started_at=None, **back))


def apply_results(items, *, max_tries, first_delay=0.0):
    """Apply worker results (kind, id, attempt, result): a tasks.Answer per item, applied
    (now or before), dropped or refused."""
    answers = [None] * len(items)
    if any(item[0] == Kind.MATCH for item in items):
        # Before any row lock: the order every rating transaction takes them in.
        champion_ratings.lock()
    compilations = [i for i, item in enumerate(items) if item[0] == Kind.COMPILE]
    if compilations:
        applied = Champion.apply_compilation_results([items[i][1:] for i in compilations],
                                                     max_tries=max_tries,
                                                     first_delay=first_delay)
        for i, done in zip(compilations, applied, strict=True):
            answers[i] = tasks.APPLIED if done else tasks.DROPPED
    for i, (kind, pk, attempt, result) in enumerate(items):
        if kind == Kind.MATCH:
            try:
                done = Match.apply_result(pk, attempt, result, max_tries=max_tries,
                                          first_delay=first_delay)
            except ValueError as e:
                answers[i] = tasks.Answer(tasks.Outcome.REFUSED, str(e))
            else:
                answers[i] = tasks.APPLIED if done else tasks.DROPPED
    for i, (kind, pk, attempt, result) in enumerate(items):
        if answers[i].outcome is tasks.Outcome.DROPPED and \
                MODELS[kind].result_applied(pk, attempt, result, max_tries=max_tries):
            answers[i] = tasks.REPEATED
    return answers


def counts():
    """Queue sizes for `status()`."""
    champions = Champion.objects.aggregate(
        new=Count("pk", filter=Q(status=Status.NEW)),
        pending=Count("pk", filter=Q(status=Status.PENDING)))
    matches = Match.objects.aggregate(
        player=Count("pk", filter=Q(status=Status.NEW, priority__gte=Priority.PLAYER)),
        tournament=Count("pk", filter=Q(status=Status.NEW, priority__gte=Priority.TOURNAMENT,
                                        priority__lt=Priority.PLAYER)),
        background=Count("pk", filter=Q(status=Status.NEW, priority__lt=Priority.TOURNAMENT)),
        pending=Count("pk", filter=Q(status=Status.PENDING)))
    return {"champions": champions,
            "matches": {"new": {k: matches[k] for k in ("player", "tournament", "background")},
                        "pending": matches["pending"]}}
