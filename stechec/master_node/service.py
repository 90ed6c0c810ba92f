"""The master's RPC methods (docs/rpc.md), served to workers and to the site."""

import functools
import logging
import time

import gevent

from stechec.common import tasks
from stechec.common.rpc import RPCError
from stechec.common.tasks import Kind, Outcome, check
from stechec.contest import reasons, transitions
from stechec.master_node import metrics, queue
from stechec.master_node.throughput import Throughput

logger = logging.getLogger(__name__)


class MasterService:
    def __init__(self, database, registry, dispatcher, config):
        self._db = database
        self._registry = registry
        self._dispatcher = dispatcher
        self._throughput = Throughput()
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
        hostname, port, _, max_slots = _check_worker(worker)
        check(bool, first, "first")
        check(list[tasks.TaskRef], running, "running")
        check(str, problem, "problem")
        known, more_room = self._registry.heartbeat(hostname, port, max_slots, problem)
        if first:
            # Perhaps another version of the worker: ask it for batches again.
            known.takes_batches = True
        if first and known.tasks:
            self._dispatcher.give_back(self._registry.take_tasks(known),
                                       reasons.reason("worker_restarted", worker=known.name),
                                       "worker_lost")
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
        what = tasks.describe(ref["kind"], ref["id"], ref["attempt"])
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
            worker.client.cancel(ref["kind"], ref["id"], ref["attempt"])
        except Exception as e:
            logger.warning("worker %s: cancel of %s failed: %s", worker.name,
                           tasks.describe(ref["kind"], ref["id"], ref["attempt"]), e)

    def compilation_result(self, worker, champion_id, attempt, result):
        return self._apply_one(Kind.COMPILE, worker, champion_id, attempt, result)

    def match_done(self, worker, match_id, attempt, result):
        return self._apply_one(Kind.MATCH, worker, match_id, attempt, result)

    def _apply_one(self, kind, worker, task_id, attempt, result):
        """One result, as its kind's single-result method takes it: true or false, or a
        fault when refused."""
        _check_worker(worker)
        check(tasks.Id, task_id, kind.id_field)
        check(tasks.Id, attempt, "attempt")
        check(kind.result_shape, result, "result")
        [answer] = self._apply(worker, [(kind, task_id, attempt, result)])
        if answer.outcome is Outcome.REFUSED:
            raise RPCError(answer.refusal)
        return answer.wire

    def task_results(self, worker, results):
        """Several results in one call: one answer each (true, false or the refusal)."""
        _check_worker(worker)
        check(list[tasks.ResultEntry], results, "results")
        items = [(Kind(r["kind"]), r["id"], r["attempt"], r["result"]) for r in results]
        return [answer.wire for answer in self._apply(worker, items)]

    def _apply(self, worker, items):
        """Apply results (kind, id, attempt, result) from `worker`: a tasks.Answer each."""
        name = f"{worker[0]}:{worker[1]}"
        self._registry.seen(name)
        freed = False
        for kind, task_id, attempt, _ in items:
            finished = self._registry.finish(kind, task_id, attempt)
            if finished is not None:
                metrics.TASK_SECONDS.labels(kind).observe(time.monotonic() - finished.placed)
                freed = True
        if freed:
            # The worker has freed the slots: let the dispatcher use them while
            # the results are written.
            self._dispatcher.slots_freed()
        pending = [self._db.submit_batched(self._apply_results, item) for item in items]
        answers = []
        for (kind, task_id, attempt, result), waiting in zip(items, pending, strict=True):
            what = tasks.describe(kind, task_id, attempt)
            answer = waiting.get()
            if answer.outcome is Outcome.REFUSED:
                logger.warning("%s: result from %s refused: %s", what, name, answer.refusal)
                answer = tasks.Answer(Outcome.REFUSED, f"{what}: {answer.refusal}")
            elif answer.outcome is Outcome.REPEATED:
                logger.info("%s: already applied; the same result again from %s (true again)",
                            what, name)
            elif answer.outcome is Outcome.APPLIED:
                logger.info("%s: %s from %s", what, result["status"], name)
                self._throughput.applied(kind)
                if result["status"] == tasks.Status.FAILED:
                    metrics.failed(kind, result["reason"])
            else:
                logger.warning("%s: result from %s dropped (stale attempt, unknown or finished "
                               "task)", what, name)
            metrics.RESULTS.labels(kind, answer.outcome.name.lower()).inc()
            answers.append(answer)
        return answers

    def status(self):
        return {"workers": [w.status() for w in self._registry.workers.values()],
                "queue": self._db.call(queue.counts),
                "throughput": self._throughput.recent(), "paused": self._dispatcher.paused}


def _check_worker(worker):
    """[hostname, port, free_slots, max_slots], checked."""
    check(tasks.WorkerEntry, worker, "worker")
    return worker
