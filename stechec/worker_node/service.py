"""The worker's RPC methods, as in docs/rpc.md.

`compile_champion` and `run_match` answer at once: false when the slots are
not there (nothing started), true when the job started in its own greenlet.
The job gives its slots back as soon as its programs are done, then its
result is delivered to the master (retried through outages); a cancelled
job sends nothing.
"""

import logging

import gevent
import gevent.pool

from stechec.common.rpc import RPCServer, require
from stechec.worker_node import compilation, matches
from stechec.worker_node.master import MasterLink

logger = logging.getLogger(__name__)


class WorkerService:
    def __init__(self, config, workspace, tasks):
        self.config = config
        self.workspace = workspace
        self.tasks = tasks
        self.hostname = workspace.hostname
        self.port = None
        self.master = MasterLink(config, self.identity)
        self.rpc = RPCServer(config["master"]["shared_secret"], "worker")
        for method in (self.compile_champion, self.run_match, self.cancel, self.status):
            self.rpc.register(method)
        self._jobs = gevent.pool.Group()

    @property
    def name(self):
        return f"{self.hostname}:{self.port}"

    def serve(self):
        worker = self.config["worker"]
        self.rpc.serve(worker["listen"], worker["port"])
        self.port = self.rpc.port
        self.rpc.name = f"worker {self.name}"
        logger.info("worker %s listening on %s:%d with %d slots", self.name, worker["listen"],
                    self.port, self.tasks.max_slots)

    def stop(self):
        """Kill every running program and stop serving."""
        self.tasks.cancel_all()
        self._jobs.join(timeout=10)
        self.rpc.stop()

    def identity(self):
        worker = [self.hostname, self.port, self.tasks.free_slots, self.tasks.max_slots]
        return worker, self.tasks.running()

    # RPC methods

    def compile_champion(self, task):
        _require_fields(task, {"champion_id": int, "attempt": int, "user": str, "slots": int})
        _require_user(task["user"])
        claimed = self._claim("compile", task["champion_id"], task["attempt"], task["slots"])
        if claimed is None:
            return False
        self._jobs.spawn(self._run_job, claimed, "compilation_result",
                         lambda: compilation.compile_champion(self.workspace, claimed,
                                                              task["user"]),
                         lambda reason: {"status": "failed", "language": "", "log": "",
                                         "reason": reason})
        return True

    def run_match(self, task):
        _require_fields(task, {"match_id": int, "attempt": int, "slots": int, "options": str,
                               "players": list})
        require(task.get("map") is None or isinstance(task["map"], str),
                "map: expected a string or nil")
        task.setdefault("map", None)
        require(task["players"], "players: a match needs players")
        for player in task["players"]:
            require(isinstance(player, dict), "players: each player must be a struct")
            _require_fields(player, {"matchplayer_id": int, "champion_id": int, "user": str})
            _require_user(player["user"])
        seats = len(task["players"])
        require(len({p["matchplayer_id"] for p in task["players"]}) == seats,
                "players: matchplayer_id appears twice")
        # One program per slot at least: each runs as a sandbox user id of its own.
        require(task["slots"] >= 1 + seats,
                f"slots: a match of {seats} players needs at least {1 + seats}")
        claimed = self._claim("match", task["match_id"], task["attempt"], task["slots"])
        if claimed is None:
            return False
        self._jobs.spawn(self._run_job, claimed, "match_done",
                         lambda: matches.run_match(self.workspace, claimed, task),
                         lambda reason: matches.failed_result(task, reason, retryable=True))
        return True

    def cancel(self, kind, task_id, attempt):
        require(kind in ("compile", "match"), "kind: expected 'compile' or 'match'")
        _require_fields({"task_id": task_id, "attempt": attempt},
                        {"task_id": int, "attempt": int})
        task = self.tasks.get(kind, task_id)
        if task is None or task.attempt != attempt or task.cancelled:
            return False
        logger.info("%s: cancelled by the master", task)
        task.cancel()
        return True

    def status(self):
        worker, running = self.identity()
        return {"hostname": worker[0], "port": worker[1], "free_slots": worker[2],
                "max_slots": worker[3], "running": running}

    # Jobs

    def _claim(self, kind, task_id, attempt, slots):
        require(slots >= 1, "slots: must be at least 1")
        task = self.tasks.claim(kind, task_id, attempt, slots)
        if task is None:
            logger.info("%s %d attempt %d refused: %d slots asked, %d free", kind, task_id,
                        attempt, slots, self.tasks.free_slots)
        else:
            logger.info("%s: accepted (%d slots)", task, slots)
        return task

    def _run_job(self, task, method, job, failure):
        try:
            try:
                result = job()
            except Exception as e:
                logger.exception("%s: the worker failed", task)
                task.stop_programs()
                result = failure(f"worker {self.name} failed: {type(e).__name__}: {e}")
            finally:
                self.tasks.release_slots(task)
            if task.cancelled or result is None:
                logger.info("%s: cancelled, no result sent", task)
                return
            logger.info("%s: %s%s", task, result["status"],
                        f" ({result['reason']})" if result["reason"] else "")
            worker, _running = self.identity()
            self.master.deliver(str(task), method, worker, task.id, task.attempt, result)
        finally:
            self.tasks.forget(task)


def _require_user(name):
    require(name and "/" not in name and name not in (".", "..") and "\0" not in name,
            "user: not a valid user name")


def _require_fields(payload, fields):
    require(isinstance(payload, dict), "task: expected a struct")
    for key, kind in fields.items():
        value = payload.get(key)
        require(isinstance(value, kind) and not (kind is int and isinstance(value, bool)),
                f"{key}: expected {'an integer' if kind is int else 'a ' + kind.__name__}")
        # Ids, attempts and slots all count from 1.
        require(kind is not int or value >= 1, f"{key}: must be at least 1")
