"""The master's RPC methods (docs/rpc.md), served to workers and to the site."""

import functools
import logging

import gevent

from stechec.common import verdicts
from stechec.common.rpc import RPCError, require
from stechec.contest import transitions
from stechec.master_node import queue

logger = logging.getLogger(__name__)

COMPILE_STATUSES = ("ready", "error", "failed")
MATCH_STATUSES = ("done", "failed")


def _check_worker(worker):
    require(isinstance(worker, list) and len(worker) == 4, "worker must be "
            "[hostname, port, free_slots, max_slots]")
    hostname, port, free_slots, max_slots = worker
    require(isinstance(hostname, str) and hostname, "worker hostname must be a non-empty string")
    for name, value in (("port", port), ("free_slots", free_slots), ("max_slots", max_slots)):
        require(_is_int(value) and value >= 0, f"worker {name} must be a non-negative integer")
    require(0 < port < 65536, "worker port must be between 1 and 65535")
    return hostname, port, max_slots


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check_task(task_id, attempt):
    require(_is_int(task_id) and _is_int(attempt) and task_id > 0 and attempt > 0,
            "task id and attempt must be positive integers")


def _check_task_ref(ref):
    require(isinstance(ref, dict) and ref.get("kind") in ("compile", "match"),
            "running must be an array of task refs {kind: compile | match, id, attempt}")
    _check_task(ref.get("id"), ref.get("attempt"))


def _check_text(result, *keys):
    for key in keys:
        require(isinstance(result.get(key), str), f"result {key!r} must be a string")


def _check_log(struct, key, what="result"):
    # Base64 (bytes): what a worker sends, a log being whatever its programs printed. A
    # string: what workers sent before, accepted so that they can be upgraded after the
    # master. Either way it is only checked: the site reads logs from the shared directory.
    require(isinstance(struct.get(key), (bytes, str)),
            f"{what} {key!r} must be base64 (the log's bytes) or a string")


def _check_verdict(struct, key, what="result"):
    # Optional: older workers send none.
    if key in struct:
        wrong = verdicts.problem(struct[key])
        require(wrong is None, f"{what} {key!r}: {wrong}")


def _check_compilation(result):
    require(isinstance(result, dict), "result must be a struct")
    require(result.get("status") in COMPILE_STATUSES,
            f"result status must be one of {', '.join(COMPILE_STATUSES)}")
    _check_text(result, "language", "reason")
    _check_log(result, "log")
    _check_verdict(result, "verdict")


def _check_match(result):
    require(isinstance(result, dict), "result must be a struct")
    require(result.get("status") in MATCH_STATUSES,
            f"result status must be one of {', '.join(MATCH_STATUSES)}")
    _check_text(result, "reason")
    _check_log(result, "server_log")
    _check_verdict(result, "server_verdict")
    require(isinstance(result.get("retryable"), bool), "result 'retryable' must be a boolean")
    players = result.get("players")
    require(isinstance(players, list), "result 'players' must be an array")
    for player in players:
        require(isinstance(player, dict), "each player must be a struct")
        require(_is_int(player.get("matchplayer_id")), "player matchplayer_id must be an integer")
        require(player.get("score") is None or _is_int(player["score"]),
                "player score must be an integer or nil")
        require(_is_int(player.get("nb_timeout")) and player["nb_timeout"] >= 0,
                "player nb_timeout must be a non-negative integer")
        require(player.get("exit_status") is None or _is_int(player["exit_status"]),
                "player exit_status must be an integer or nil")
        _check_log(player, "log", "player")
        _check_verdict(player, "verdict", "player")
    require(len({p["matchplayer_id"] for p in players}) == len(players),
            "a player appears twice")
    if result["status"] == "done":
        require(all(p["score"] is not None for p in players), "a done match scores every player")


def _check_result_item(item):
    """One entry of `task_results`: as (kind, id, attempt, result)."""
    require(isinstance(item, dict), "each result must be a struct")
    kind, task_id, attempt, result = (item.get(k) for k in ("kind", "id", "attempt", "result"))
    require(kind in (transitions.COMPILE, transitions.MATCH),
            f"kind must be {transitions.COMPILE} or {transitions.MATCH}")
    _check_task(task_id, attempt)
    (_check_compilation if kind == transitions.COMPILE else _check_match)(result)
    return kind, task_id, attempt, result


class MasterService:
    def __init__(self, database, registry, dispatcher, config):
        self._db = database
        self._registry = registry
        self._dispatcher = dispatcher
        # One function object, so that results arriving together share a batch.
        self._apply_results = functools.partial(
            transitions.apply_results, max_tries=config["worker"]["max_task_tries"],
            first_delay=config["worker"]["retry_delay_secs"])

    def register(self, server):
        for method in (self.heartbeat, self.compilation_result, self.match_done,
                       self.task_results, self.status):
            server.register(method)

    def heartbeat(self, worker, first, running, problem=""):
        """`problem`: why the worker takes no task now (its shared directory is not
        mounted), empty when it takes them; older workers do not send it."""
        hostname, port, max_slots = _check_worker(worker)
        require(isinstance(first, bool), "first must be a boolean")
        require(isinstance(problem, str), "problem must be a string")
        require(isinstance(running, list), "running must be an array of task refs")
        for ref in running:
            _check_task_ref(ref)
        known, more_room = self._registry.heartbeat(hostname, port, max_slots, problem)
        if first:
            # Perhaps another version of the worker: ask it for batches again.
            known.takes_batches = True
        if first and known.tasks:
            self._dispatcher.give_back(self._registry.take_tasks(known),
                                       f"worker {known.name} restarted")
        elif not first:
            for ref in running:
                if not self._registry.is_current(ref, known):
                    self._cancel_stale(known, ref)
        if more_room:
            self._dispatcher.wake()
        return True

    def _cancel_stale(self, worker, ref):
        """Cancel an attempt `worker` lists that is not the master's current one: its
        result would be dropped, and its slots are better free."""
        what = f"{ref.get('kind')} {ref.get('id')} attempt {ref.get('attempt')}"
        if self._registry.result_arrived(ref):
            # The usual case: the worker lists it until it has the answer to its
            # result, which is on its way. The cancel is a no-op there.
            logger.debug("worker %s still lists %s, whose result arrived", worker.name, what)
        else:
            logger.info("worker %s runs %s, which is not current; cancelling it", worker.name,
                        what)
        gevent.spawn(self._cancel, worker, ref)

    def _cancel(self, worker, ref):
        try:
            worker.client.cancel(ref.get("kind"), ref.get("id"), ref.get("attempt"))
        except Exception as e:
            logger.warning("worker %s: cancel of %s %s failed: %s", worker.name, ref.get("kind"),
                           ref.get("id"), e)

    def compilation_result(self, worker, champion_id, attempt, result):
        _check_worker(worker)
        _check_task(champion_id, attempt)
        _check_compilation(result)
        return self._apply(worker, [(transitions.COMPILE, champion_id, attempt, result)])[0]

    def match_done(self, worker, match_id, attempt, result):
        _check_worker(worker)
        _check_task(match_id, attempt)
        _check_match(result)
        return self._apply(worker, [(transitions.MATCH, match_id, attempt, result)])[0]

    def task_results(self, worker, results):
        """Several results in one call: one outcome each (true, false or the refusal)."""
        _check_worker(worker)
        require(isinstance(results, list), "results must be an array")
        items = []
        for i, item in enumerate(results):
            try:
                items.append(_check_result_item(item))
            except RPCError as e:
                raise RPCError(f"results[{i}]: {e}") from None
        return [str(outcome) if isinstance(outcome, RPCError) else outcome
                for outcome in self._apply(worker, items, refuse=False)]

    def _apply(self, worker, items, refuse=True):
        """Apply results (kind, id, attempt, result) from `worker`: true (applied, now or
        before) or false (dropped) each; one the database refuses raises RPCError, or is
        returned as one when `refuse` is false."""
        name = f"{worker[0]}:{worker[1]}"
        self._registry.seen(name)
        freed = False
        for kind, task_id, attempt, _ in items:
            freed = self._registry.finish(kind, task_id, attempt) is not None or freed
        if freed:
            # The worker has freed the slots: let the dispatcher use them while
            # the results are written.
            self._dispatcher.slots_freed()
        pending = [self._db.submit_batched(self._apply_results, item) for item in items]
        outcomes = []
        for (kind, task_id, attempt, result), outcome in zip(items, pending, strict=True):
            what = f"{'champion' if kind == transitions.COMPILE else 'match'} {task_id} " \
                   f"attempt {attempt}"
            try:
                applied = outcome.get()
            except ValueError as e:
                refusal = RPCError(f"{what}: {e}")
                if refuse:
                    raise refusal from None
                logger.warning("%s: result from %s refused: %s", what, name, e)
                outcomes.append(refusal)
                continue
            if applied is transitions.REPEAT:
                logger.info("%s: already applied; the same result again from %s (true again)",
                            what, name)
                applied = True
            elif applied:
                logger.info("%s: %s from %s", what, result["status"], name)
            else:
                logger.warning("%s: result from %s dropped (stale attempt, unknown or finished "
                               "task)", what, name)
            outcomes.append(applied)
        return outcomes

    def status(self):
        return {"workers": [w.status() for w in self._registry.workers.values()],
                "queue": self._db.call(queue.counts)}
