"""The master's RPC methods (docs/rpc.md), served to workers and to the site."""

import functools
import logging

import gevent

from stechec.common.rpc import RPCError, require
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


def _check_compilation(result):
    require(isinstance(result, dict), "result must be a struct")
    require(result.get("status") in COMPILE_STATUSES,
            f"result status must be one of {', '.join(COMPILE_STATUSES)}")
    _check_text(result, "language", "log", "reason")


def _check_match(result):
    require(isinstance(result, dict), "result must be a struct")
    require(result.get("status") in MATCH_STATUSES,
            f"result status must be one of {', '.join(MATCH_STATUSES)}")
    _check_text(result, "reason", "server_log")
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
    require(len({p["matchplayer_id"] for p in players}) == len(players),
            "a player appears twice")
    if result["status"] == "done":
        require(all(p["score"] is not None for p in players), "a done match scores every player")


class MasterService:
    def __init__(self, database, registry, dispatcher, config):
        self._db = database
        self._registry = registry
        self._dispatcher = dispatcher
        # One function object, so that results arriving together share a batch.
        self._apply_results = functools.partial(
            queue.apply_results, max_tries=config["worker"]["max_task_tries"])

    def register(self, server):
        for method in (self.heartbeat, self.compilation_result, self.match_done, self.status):
            server.register(method)

    def heartbeat(self, worker, first, running):
        hostname, port, max_slots = _check_worker(worker)
        require(isinstance(first, bool), "first must be a boolean")
        require(isinstance(running, list), "running must be an array of task refs")
        for ref in running:
            _check_task_ref(ref)
        known, more_room = self._registry.heartbeat(hostname, port, max_slots)
        if first and known.tasks:
            self._dispatcher.give_back(self._registry.take_tasks(known),
                                       f"worker {known.name} restarted")
        elif not first:
            for ref in running:
                if not self._registry.is_current(ref, known):
                    # Its result would be dropped anyway: free the worker's slots.
                    logger.info("worker %s runs %s %s attempt %s, which is not current; "
                                "cancelling it", known.name, ref.get("kind"), ref.get("id"),
                                ref.get("attempt"))
                    gevent.spawn(self._cancel, known, ref)
        if more_room:
            self._dispatcher.wake()
        return True

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
        return self._apply(worker, queue.COMPILE, champion_id, attempt, result)

    def match_done(self, worker, match_id, attempt, result):
        _check_worker(worker)
        _check_task(match_id, attempt)
        _check_match(result)
        return self._apply(worker, queue.MATCH, match_id, attempt, result)

    def _apply(self, worker, kind, task_id, attempt, result):
        name = f"{worker[0]}:{worker[1]}"
        what = f"{'champion' if kind == queue.COMPILE else 'match'} {task_id} attempt {attempt}"
        self._registry.seen(name)
        # The worker has freed the slots: let the dispatcher use them while
        # the result is written.
        if self._registry.finish(kind, task_id, attempt) is not None:
            self._dispatcher.slots_freed()
        try:
            applied = self._db.call_batched(self._apply_results,
                                            (kind, task_id, attempt, result))
        except ValueError as e:
            raise RPCError(f"{what}: {e}") from None
        if applied:
            logger.info("%s: %s from %s", what, result["status"], name)
        else:
            logger.warning("%s: result from %s dropped (stale attempt, unknown or finished task)",
                           what, name)
        return applied

    def status(self):
        return {"workers": [w.status() for w in self._registry.workers.values()],
                "queue": self._db.call(queue.counts)}
