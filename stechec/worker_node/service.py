"""The worker's RPC methods, as in docs/rpc.md.

`compile_champion` and `run_match` answer at once: false when the slots are
not there or the shared directory is not (nothing started), true when the job started in its own greenlet;
`run_tasks` answers as they would for each of several tasks. The job gives
its slots back as soon as its programs are done, publishes its outputs in
the shared directory (stechec.worker_node.outputs), and then its result goes
to the master (retried through outages, several together when they finish
together); the master's answer settles the outputs. A cancelled job sends
nothing and leaves nothing.
"""

import functools
import logging
import time

import gevent
import gevent.pool

from stechec.common import metrics as metrics_server
from stechec.common import paths
from stechec.common.rpc import RPCError, RPCServer, require
from stechec.common.tasks import Id, Kind, check, check_task, describe
from stechec.worker_node import compilation, matches, metrics
from stechec.worker_node.master import MasterLink
from stechec.worker_node.outputs import AttemptOutputs
from stechec.worker_node.shared import SharedDirectory
from stechec.worker_node.workspace import off_hub

logger = logging.getLogger(__name__)


class WorkerService:
    def __init__(self, config, workspace, tasks):
        self.config = config
        self.workspace = workspace
        self.tasks = tasks
        self.hostname = workspace.hostname
        self.port = None
        self.metrics_server = None
        self.shared = SharedDirectory(config["contest"])
        self.master = MasterLink(config, self.identity, self.shared.check)
        self.rpc = RPCServer(config["master"]["shared_secret"], "worker")
        for method in (self.compile_champion, self.run_match, self.run_tasks, self.cancel,
                       self.status):
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

    def serve_metrics(self):
        """Serve the metrics on worker.metrics_port, if set (OSError when it cannot)."""
        worker = self.config["worker"]
        if worker["metrics_port"] is not None:
            metrics.watch(self.tasks)
            self.metrics_server = metrics_server.serve(worker["listen"], worker["metrics_port"])

    def stop(self):
        """Kill every running program and stop serving."""
        self.tasks.cancel_all()
        self._jobs.join(timeout=10)
        self.rpc.stop()
        if self.metrics_server is not None:
            self.metrics_server.stop()

    def identity(self):
        worker = [self.hostname, self.port, self.tasks.free_slots, self.tasks.max_slots]
        return worker, self.tasks.running()

    # RPC methods

    def compile_champion(self, task):
        return self._start(_check_task(task, "task", Kind.COMPILE), task)

    def run_match(self, task):
        return self._start(_check_task(task, "task", Kind.MATCH), task)

    def run_tasks(self, tasks):
        """Several tasks at once: each accepted or refused for room as alone; a malformed one,
        or one whose attempt (or a newer one) runs here, refuses the whole call."""
        check(list, tasks, "tasks")
        checked, seen = [], set()
        for i, task in enumerate(tasks):
            where = f"tasks[{i}]"
            kind = _check_task(task, where)
            key = (kind, task[kind.id_field])
            require(key not in seen, f"{where}: the same task twice in one call")
            try:
                self.tasks.check_attempt(*key, task["attempt"])
            except RPCError as e:
                raise RPCError(f"{where}: {e}") from None
            seen.add(key)
            checked.append((kind, task))
        logger.debug("run_tasks: %d tasks", len(checked))
        return [self._start(kind, task) for kind, task in checked]

    def cancel(self, kind, task_id, attempt):
        check(Kind, kind, "kind")
        check(Id, task_id, "task_id")
        check(Id, attempt, "attempt")
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

    def _start(self, kind, task):
        """Claim the slots of a checked task and start its job; false when they are not free."""
        task_id = task[kind.id_field]
        what = describe(kind, task_id, task["attempt"])
        if not self.shared.ready():
            logger.info("%s: refused: %s", what, self.shared.problem)
            return False
        claimed = self.tasks.claim(kind, task_id, task["attempt"], task["slots"])
        if claimed is None:
            logger.info("%s: refused: %d slots asked, %d free", what, task["slots"],
                        self.tasks.free_slots)
            return False
        logger.info("%s: accepted (%d slots)", claimed, task["slots"])
        contest = self.config["contest"]
        if kind == Kind.COMPILE:
            directory = paths.champion_dir(contest["directory"], contest["game"], task["user"],
                                           task_id)
            job = functools.partial(compilation.compile_champion, self.workspace, claimed,
                                    task["user"])
            failure = compilation.failed_result
        else:
            directory = paths.match_dir(contest["directory"], contest["game"], task_id)
            job = functools.partial(matches.run_match, self.workspace, claimed, task)
            failure = functools.partial(matches.failed_result, task, retryable=True)
        self._jobs.spawn(self._run_job, claimed, AttemptOutputs(directory, task["attempt"]),
                         job, failure)
        return True

    def _run_job(self, task, outputs, job, failure):
        started = time.monotonic()
        try:
            try:
                result = job(outputs)
            except Exception as e:
                logger.exception("%s: the worker failed", task)
                task.stop_programs()
                result = failure(f"worker {self.name} failed: {type(e).__name__}: {e}")
                # What it wrote is half done, or not what its result now says.
                self._tidy(task, outputs.discard)
            finally:
                self.tasks.release_slots(task)
            if task.cancelled or result is None:
                logger.info("%s: cancelled, no result sent", task)
                self._tidy(task, outputs.discard)
                return
            logger.info("%s: %s%s", task, result["status"],
                        f" ({result['reason']})" if result["reason"] else "")
            metrics.record(task.kind, result, time.monotonic() - started)
            answer = self.master.report(str(task), task.kind, task.id, task.attempt, result)
            self._tidy(task, functools.partial(outputs.settle, answer))
        finally:
            self.tasks.forget(task)

    @staticmethod
    def _tidy(task, action):
        try:
            off_hub(action)
        except OSError as e:
            logger.warning("%s: cleaning its outputs up in the shared directory failed: %s",
                           task, e)


def _check_task(task, where, kind=None):
    """Check a task (tasks.check_task) and return its kind; a match's map left out is none."""
    kind = check_task(task, where, kind)
    if kind == Kind.MATCH:
        task.setdefault("map", None)
    return kind
