"""Every change of a task's status after it is queued, and the application of results.

A task is a champion to compile or a match to play (see docs/architecture.md,
"Task life cycle"). The site queues it `new` (models: `queue_for_compilation`,
`Match.launch`); from then on its status moves only here:

- `new -> pending`: the master claims it for a worker (`mark_pending`);
- `pending -> new`: a worker refused it (`undo_attempt`), a master restarted
  (`reset_pending`), or an attempt failed for the platform's reasons
  (`give_back`, `retry_or_fail`: `failed` past the retry cap);
- `pending -> final`: a worker's result is applied (`apply_results`);
- `final -> new`: staff requeue a champion or rerun matches;
- `new` or `pending -> failed`: staff cancel a match (`cancel_match`).

Every write is conditional on the row's state (`new`, or `pending` with a
given attempt number), so that running one twice, or with a stale attempt,
changes nothing: that is what makes each result applied exactly once. The
ratings lock is taken here and only here for results (`apply_results`).

The statements the ORM wrote too slowly for the master are written out by
hand beside the function that runs them, with the statuses as parameters;
tests/contest/test_sql.py pins the tables and columns they name.
"""

import datetime
import functools
import logging

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from stechec.common import tasks, verdicts
from stechec.common.tasks import Kind, Status
from stechec.contest import champion_ratings, reasons, tournament_points, webhook_events
from stechec.contest.models import AppliedResult, Champion, Match, MatchPlayer

logger = logging.getLogger(__name__)

MODELS = {Kind.COMPILE: Champion, Kind.MATCH: Match}

# The longest a task given back waits before it is claimed again.
MAX_RETRY_DELAY_SECS = 300.0


def retry_state(attempt, uncounted, reason, *, max_tries):
    """(status, failure_reason) of a task whose attempt `attempt` failed for the platform's
    reasons, `uncounted` of its attempts not counting: back to `new`, or `failed` once
    `max_tries` counted attempts failed."""
    tries = attempt - uncounted
    if tries >= max_tries:
        return Status.FAILED, reasons.text(reasons.gave_up(tries, reason))
    return Status.NEW, reason


def retry_delay(tries, first_delay):
    """Seconds a task waits in the queue after its `tries`-th counted try failed: the first
    retry `first_delay`, each next one twice as long, at most MAX_RETRY_DELAY_SECS.

    A cause that outlasts a few seconds (a worker whose share went away, a
    database restarting) then meets fewer of the task's tries."""
    return min(first_delay * 2 ** (tries - 1), MAX_RETRY_DELAY_SECS)


def retry_or_fail(model, pk, attempt, reason, *, max_tries, first_delay=0.0, **fields):
    """Put attempt `attempt` of a pending task back to `new`, or `failed` past `max_tries`.

    For the master node: the attempt failed for the platform's reasons (a
    worker lost, a deadline passed, a failure the worker calls retryable):
    `reason` is the master's (a detail of stechec.contest.reasons) or the
    worker's sentence, stored with its detail when it has one.
    Back in the queue, it is not claimed again before its `not_before`
    (retry_delay). Conditional on the attempt still being the current one, so
    a late or repeated call changes nothing; true when it changed the row. A
    task given up is logged as a warning once the transaction commits.
    """
    current = model.objects.filter(pk=pk, status=model.Status.PENDING, attempts=attempt)
    uncounted = current.values_list("uncounted_attempts", flat=True).first()
    if uncounted is None:
        return False
    text, detail = reasons.parts(reason, fields.get("server_verdict"))
    status, failure_reason = retry_state(attempt, uncounted, text, max_tries=max_tries)
    if status == Status.FAILED:
        detail = reasons.gave_up(attempt - uncounted, detail or text)
    fields.update(status=status, failure_reason=failure_reason, failure_detail=detail)
    if model is Match and status == Status.FAILED:
        # Given up after the platform failed it max_tries times: it counts nowhere.
        fields["fault"] = Match.Fault.PLATFORM
    if status == Status.NEW:
        fields["not_before"] = timezone.now() + datetime.timedelta(
            seconds=retry_delay(attempt - uncounted, first_delay))
    if current.update(**fields) != 1:
        return False
    if status == Status.FAILED:
        transaction.on_commit(functools.partial(
            logger.warning, "%s %d: %s", model._meta.verbose_name, pk, failure_reason))
        if model is Match:
            webhook_events.match_finished(pk)
        else:
            webhook_events.champions_compiled([pk])
    return True


# mark_pending's statement; {cases}: one "WHEN %s THEN %s" (id, worker) per task,
# {ids}: one %s per task, {started}: the matches' start time columns.
MARK_PENDING_SQL = {
    Kind.COMPILE:
        "UPDATE stechec_champion SET status = %s, attempts = stechec_champion.attempts + 1, "
        "worker = CASE stechec_champion.id {cases} END "
        "WHERE stechec_champion.id IN ({ids}) AND stechec_champion.status = %s",
    Kind.MATCH:
        "UPDATE stechec_match SET status = %s, attempts = stechec_match.attempts + 1, "
        "worker = CASE stechec_match.id {cases} END, started_at = %s, finished_at = NULL "
        "WHERE stechec_match.id IN ({ids}) AND stechec_match.status = %s",
}


def mark_pending(kind, placements):
    """Move placed `new` tasks to `pending`, each with its next attempt number and its worker.

    `placements` is a list of (id, attempt, worker name); returns the ids
    moved, which are all of them unless a row stopped being `new` since it
    was read. One statement for the batch, written out by hand: the ORM's
    per-row CASE costs more than the rest of dispatching.
    """
    ids = [pk for pk, _, _ in placements]
    sql = MARK_PENDING_SQL[kind].format(cases=" ".join(["WHEN %s THEN %s"] * len(placements)),
                                        ids=", ".join(["%s"] * len(ids)))
    params = [Status.PENDING]
    params += [value for pk, _, name in placements for value in (pk, name)]
    if kind == Kind.MATCH:
        params.append(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, params + ids + [Status.NEW])
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
    retry_delay), `failed` past `max_tries`."""
    extra = {Kind.MATCH: {"started_at": None}, Kind.COMPILE: {}}
    return [retry_or_fail(MODELS[kind], pk, attempt, reason, max_tries=max_tries,
                          first_delay=first_delay, **extra[kind])
            for kind, pk, attempt in tasks]


def undo_attempt(kind, pk, attempt, reason):
    """A worker refused the task (nothing started): back to `new`, the attempt not counted;
    `reason` as retry_or_fail's."""
    text, detail = reasons.parts(reason)
    return MODELS[kind].objects.filter(pk=pk, status=Status.PENDING, attempts=attempt).update(
        status=Status.NEW, uncounted_attempts=F("uncounted_attempts") + 1,
        failure_reason=text, failure_detail=detail) == 1


def reset_pending():
    """On start: the previous master's attempts are lost with it; their tasks go back to `new`,
    those attempts not counted (the tasks were not at fault, nor perhaps their workers)."""
    restarted = reasons.reason("master_restarted")
    back = {"status": Status.NEW, "failure_reason": reasons.text(restarted),
            "failure_detail": restarted, "uncounted_attempts": F("uncounted_attempts") + 1}
    return (Champion.objects.filter(status=Status.PENDING).update(**back),
            Match.objects.filter(status=Status.PENDING).update(started_at=None, **back))


def requeue_champions(queryset):
    """Put finished champions back to `new`, with all their tries again; returns how
    many were requeued."""
    return queryset.filter(status__in=Champion.FINISHED).update(
        status=Champion.Status.NEW, failure_reason="", failure_detail=None, not_before=None,
        uncounted_attempts=F("attempts"))


def rerun_matches(queryset):
    """Put finished matches back to `new` with their results cleared and all their
    tries again; returns how many.

    A done tournament match gives back its points (the new result brings
    its own). Its rating effect stays: the master rates it again on its
    new result, and `stechec-manage recompute_ratings` counts it once.
    """
    with transaction.atomic():
        ids = list(queryset.filter(status__in=Match.FINISHED).values_list("id", flat=True))
        tournament_points.remove_points(Match.objects.filter(id__in=ids))
        MatchPlayer.objects.filter(match_id__in=ids).update(
            score=None, nb_timeout=0, has_timeout=False, exit_status=None, verdict=None)
        Match.objects.filter(id__in=ids).update(
            status=Match.Status.NEW, failure_reason="", failure_detail=None, started_at=None,
            finished_at=None,
            not_before=None, uncounted_attempts=F("attempts"), server_verdict=None,
            fault=Match.Fault.NONE)
    return len(ids)


def cancel_match(match_id, reason):
    """End a waiting or running match `failed` for `reason` (a detail), staff's doing
    (Fault.CANCELLED: it counts for nothing); its attempt's result, if one comes, is
    dropped. Returns whether it was waiting or running."""
    text, detail = reasons.parts(reason)
    return Match.objects.filter(pk=match_id, status__in=(Status.NEW, Status.PENDING)).update(
        status=Match.Status.FAILED, failure_reason=text, failure_detail=detail,
        fault=Match.Fault.CANCELLED,
        finished_at=timezone.now(), not_before=None) == 1


def apply_results(items, *, max_tries, first_delay=0.0):
    """Apply worker results (kind, id, attempt, result) in the caller's transaction: a
    tasks.Answer per item, applied (now or before), dropped, or refused (a match whose
    players are not its own)."""
    answers = [None] * len(items)
    # The final results applied, (kind, task id, attempt, status): one statement records them.
    recorded = []
    if any(item[0] == Kind.MATCH for item in items):
        # Before any row lock: the order every rating transaction takes them in.
        champion_ratings.lock()
    compilations = [i for i, item in enumerate(items) if item[0] == Kind.COMPILE]
    if compilations:
        applied = apply_compilation_results([items[i][1:] for i in compilations], recorded,
                                            max_tries=max_tries, first_delay=first_delay)
        for i, done in zip(compilations, applied, strict=True):
            answers[i] = tasks.APPLIED if done else tasks.DROPPED
    for i, (kind, pk, attempt, result) in enumerate(items):
        if kind == Kind.MATCH:
            try:
                done = apply_match_result(pk, attempt, result, max_tries=max_tries,
                                          first_delay=first_delay, recorded=recorded)
            except ValueError as e:
                answers[i] = tasks.Answer(tasks.Outcome.REFUSED, str(e))
            else:
                answers[i] = tasks.APPLIED if done else tasks.DROPPED
    record_applied(recorded)
    already_applied = {Kind.COMPILE: compilation_result_applied,
                       Kind.MATCH: match_result_applied}
    for i, (kind, pk, attempt, result) in enumerate(items):
        if answers[i].outcome is tasks.Outcome.DROPPED and \
                already_applied[kind](pk, attempt, result, max_tries=max_tries):
            answers[i] = tasks.REPEATED
    return answers


# apply_compilation_results' statement; {pairs}: one "(%s, %s)" (id, attempt) per result.
APPLY_COMPILATIONS_SQL = (
    "UPDATE stechec_champion SET status = %s, language = %s, failure_reason = '', "
    "failure_detail = NULL "
    "WHERE stechec_champion.status = %s "
    "AND (stechec_champion.id, stechec_champion.attempts) IN (VALUES {pairs}) "
    "RETURNING stechec_champion.id, stechec_champion.attempts")


# record_applied's statement; parameters: the time applied, then {rows}: one
# "(%s, %s, %s, %s)" (kind, task id, attempt, status) per result. The time is a parameter
# once, not once a row: adapting a row's values is most of the statement's cost to the master.
RECORD_APPLIED_SQL = (
    "INSERT INTO stechec_appliedresult (kind, task_id, attempt, status, applied_at) "
    "SELECT column1, column2, column3, column4, %s FROM (VALUES {rows}) AS applied")


def record_applied(recorded):
    """Write an AppliedResult row for each final result applied, (kind, task id, attempt,
    status) in the order applied, in one statement written out by hand: the ORM's
    bulk_create cost a tenth of the master's CPU."""
    if not recorded:
        return
    # Plain strings: the database driver adapts an enum member through a slower path.
    params = [connection.ops.adapt_datetimefield_value(timezone.now())]
    params += [value for kind, pk, attempt, status in recorded
               for value in (str(kind), pk, attempt, str(status))]
    with connection.cursor() as cursor:
        cursor.execute(RECORD_APPLIED_SQL.format(rows=", ".join(["(%s, %s, %s, %s)"]
                                                                * len(recorded))), params)


def apply_compilation_results(results, recorded, *, max_tries, first_delay=0.0):
    """Record workers' `compilation_result`s (docs/rpc.md).

    `results` is a list of (champion_id, attempt, result). Each is applied
    only while its attempt is the champion's current pending one, so a
    stale, repeated or concurrent duplicate result changes nothing (of the
    same result listed twice, the first is applied). Returns one boolean
    per result: applied or not, each final result applied added to
    `recorded` (see apply_results). Run it inside the caller's transaction.

    One conditional UPDATE ... RETURNING per outcome (status and language)
    serves the whole list, written out by hand: the ORM needs a locking
    read first, and building its statements cost the master more than the
    database took to run them.
    """
    outcomes = [False] * len(results)
    groups, first, compiled = {}, {}, []
    for i, (champion_id, attempt, result) in enumerate(results):
        if first.setdefault((champion_id, attempt), i) != i:
            continue
        if result["status"] == Status.FAILED:
            outcomes[i] = retry_or_fail(Champion, champion_id, attempt, result["reason"],
                                        max_tries=max_tries, first_delay=first_delay)
        else:
            groups.setdefault((result["status"], result["language"]), []).append(i)
    for (status, language), indexes in groups.items():
        pairs = [results[i][:2] for i in indexes]
        with connection.cursor() as cursor:
            cursor.execute(APPLY_COMPILATIONS_SQL.format(pairs=", ".join(["(%s, %s)"] * len(pairs))),
                           [status, language, Status.PENDING]
                           + [value for pair in pairs for value in pair])
            applied = set(cursor.fetchall())
        for i, pair in zip(indexes, pairs, strict=True):
            outcomes[i] = pair in applied
        recorded += [(AppliedResult.Kind.CHAMPION, pk, attempt, status)
                     for pk, attempt in sorted(applied)]
        compiled += [pk for pk, _ in applied]
    # The builds' verdicts, for the results applied (older workers send none).
    verdicts = [Champion(pk=results[i][0], compile_verdict=results[i][2]["verdict"])
                for i, applied in enumerate(outcomes)
                if applied is True and "verdict" in results[i][2]]
    if verdicts:
        Champion.objects.bulk_update(verdicts, ["compile_verdict"])
    if compiled:
        webhook_events.champions_compiled(compiled)
    return outcomes


def compilation_result_applied(champion_id, attempt, result, *, max_tries):
    """Whether this `compilation_result` is the one already applied: the champion is as
    applying it made it, and no attempt came since. The master then answers a worker
    that sends it again (its acknowledgement was lost) true, applying nothing."""
    row = Champion.objects.filter(pk=champion_id, attempts=attempt).values_list(
        "status", "failure_reason", "language", "uncounted_attempts").first()
    if row is None:
        return False
    if result["status"] == Status.FAILED:
        return row[:2] == retry_state(attempt, row[3], result["reason"], max_tries=max_tries)
    return row[:3] == (result["status"], "", result["language"])


def apply_match_result(match_id, attempt, result, *, max_tries, first_delay=0.0,
                       recorded=None):
    """Record a worker's `match_done` (docs/rpc.md).

    Status and scores change together, and only while `attempt` is the
    match's current pending attempt: a stale, repeated or concurrent
    duplicate result changes nothing. Returns true when applied; raises
    ValueError when the players are not the match's. A done match also
    moves its champions' ratings and, in a tournament, adds their points
    (docs/tournaments.md). Run it inside the caller's transaction, after
    `champion_ratings.lock()` (apply_results takes it). A final result
    applied is added to `recorded` for the caller to record with a batch's
    others (record_applied), or recorded at once without it.
    """
    now = timezone.now()
    if result["status"] == Status.FAILED and result["retryable"]:
        return retry_or_fail(Match, match_id, attempt, result["reason"], max_tries=max_tries,
                             first_delay=first_delay,
                             server_verdict=result.get("server_verdict"))
    reported = {player["matchplayer_id"]: player for player in result["players"]}
    players = list(MatchPlayer.objects.filter(match_id=match_id))
    current = Match.objects.filter(pk=match_id, status=Match.Status.PENDING, attempts=attempt)
    done = result["status"] == Status.DONE
    if (set(reported) != {p.id for p in players} if done
            else not set(reported) <= {p.id for p in players}):
        if not current.exists():
            return False
        raise ValueError(f"players {sorted(reported)} are not the match's "
                         f"{sorted(p.id for p in players)}")
    # A failed result the worker does not retry (older workers sent the game server's
    # failures so) is the platform's all the same: a champion's failure ends in a done
    # match, its verdict or its timeouts saying so.
    fields = ({"status": Match.Status.DONE, "failure_reason": "", "failure_detail": None,
               "fault": champion_fault(result["players"])} if done
              else {"status": Match.Status.FAILED, "failure_reason": result["reason"],
                    "failure_detail": reasons.recognise(result["reason"],
                                                        result.get("server_verdict")),
                    "fault": Match.Fault.PLATFORM})
    if current.update(finished_at=now, server_verdict=result.get("server_verdict"),
                      **fields) != 1:
        return False
    applied = (AppliedResult.Kind.MATCH, match_id, attempt, fields["status"])
    if recorded is None:
        record_applied([applied])
    else:
        recorded.append(applied)
    changed = [p for p in players if p.id in reported]
    for player in changed:
        outcome = reported[player.id]
        player.score = outcome["score"]
        player.nb_timeout = outcome["nb_timeout"]
        player.has_timeout = outcome["nb_timeout"] > 0
        player.exit_status = outcome["exit_status"]
        player.verdict = outcome.get("verdict")
    MatchPlayer.objects.bulk_update(changed, ["score", "nb_timeout", "has_timeout",
                                              "exit_status", "verdict"])
    if done:
        champion_ratings.rate_match(match_id, players)
        tournament_id = Match.objects.filter(pk=match_id).values_list("tournament_id",
                                                                      flat=True).get()
        if tournament_id is not None:
            tournament_points.add_points(tournament_id, players)
    webhook_events.match_finished(match_id)
    return True


def champion_fault(players):
    """A done match's fault: a champion's when one of its players crashed, was stopped by
    a limit, exited with an error or timed out; none otherwise."""
    if any(p["nb_timeout"] > 0 or (p.get("verdict") and verdicts.failed(p["verdict"]))
           for p in players):
        return Match.Fault.CHAMPION
    return Match.Fault.NONE


def match_result_applied(match_id, attempt, result, *, max_tries):
    """Whether this `match_done` is the one already applied: the match (status, reason,
    every reported player's outcome) is as applying it made it, and no attempt came
    since. The master then answers a worker that sends it again true, applying nothing."""
    row = Match.objects.filter(pk=match_id, attempts=attempt).values_list(
        "status", "failure_reason", "uncounted_attempts").first()
    if row is None:
        return False
    retried = result["status"] == Status.FAILED and result["retryable"]
    if retried:
        expected = retry_state(attempt, row[2], result["reason"], max_tries=max_tries)
    elif result["status"] == Status.DONE:
        expected = (Match.Status.DONE, "")
    else:
        expected = (Match.Status.FAILED, result["reason"])
    if row[:2] != expected:
        return False
    if retried:
        # Putting a match back in the queue writes no player's outcome.
        return True
    stored = {pk: outcome for pk, *outcome in MatchPlayer.objects.filter(
        match_id=match_id).values_list("id", "score", "nb_timeout", "exit_status")}
    return all(stored.get(p["matchplayer_id"]) == [p["score"], p["nb_timeout"],
                                                     p["exit_status"]]
               for p in result["players"])
