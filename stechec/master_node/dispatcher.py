"""The dispatcher: takes `new` tasks from the queue and pushes them to workers.

One greenlet loops: read a bounded batch of `new` tasks, place each on the
least-loaded worker with room, mark them `pending` in one transaction, then
send them to their workers, concurrently: one `run_tasks` call for all of a
worker's tasks when it has several (a worker that does not know the method
gets one call per task from then on), `compile_champion` or `run_match`
for a single one. A task the worker refuses as malformed (a fault naming
what is wrong) goes back to the queue as a failed attempt, and ends `failed`
with the worker's reason after `max_task_tries`: the task is at fault, not
the worker, which keeps its other tasks. It sleeps on
an event when there is nothing to place or no room; the event is set by the
database watcher (new work), by results and by heartbeats (freed slots), and
by a timeout of `dispatch.poll_secs`. While staff have paused dispatching
(master_node.controls sets `paused`) it places nothing; results of running
tasks are applied all the same.
"""

import logging
import xmlrpc.client

import gevent
from gevent.event import Event
from gevent.pool import Pool

from stechec.common.rpc import APPLICATION_ERROR, METHOD_NOT_FOUND
from stechec.common.tasks import Kind, describe
from stechec.contest import reasons, transitions
from stechec.master_node import metrics, queue

logger = logging.getLogger(__name__)

GATHER_SECS = 0.002
# Calls to workers in flight at once.
MAX_SENDS = 500


class Dispatcher:
    def __init__(self, database, registry, config):
        self._db = database
        self._registry = registry
        self._worker_config = config["worker"]
        self._poll_secs = config["dispatch"]["poll_secs"]
        self._batch_size = config["dispatch"]["batch_size"]
        self._deadlines = {Kind.COMPILE: config["worker"]["compilation_deadline_secs"],
                           Kind.MATCH: config["worker"]["match_deadline_secs"]}
        self._wakeup = Event()
        self._sends = Pool(MAX_SENDS)
        # Slots reserved by a claim whose transaction has not committed yet.
        self._unconfirmed = []
        # Whether the last batch filled every free slot (there may be more work
        # waiting for slots).
        self._short_of_room = False
        # Tasks already reported as too large for every worker.
        self._too_big = set()
        # Set by staff (master_node.controls): no task is placed meanwhile.
        self.paused = False

    def wake(self):
        self._wakeup.set()

    def slots_freed(self):
        """A task ended: worth a look at the queue only if tasks were waiting for room."""
        if self._short_of_room:
            self._wakeup.set()

    def run(self):
        while True:
            self._wakeup.clear()
            if self.paused:
                logger.debug("dispatching paused: no task placed")
                self._wakeup.wait(self._poll_secs)
                continue
            total_free = self._registry.free_slots()
            if self._short_of_room and 0 < total_free < self._batch_size:
                # Slots free up in bursts (results arrive together): a moment's
                # wait lets one batch, one transaction, serve the whole burst.
                gevent.sleep(GATHER_SECS)
                total_free = self._registry.free_slots()
            limit = min(total_free, self._batch_size)
            try:
                read, claimed = self._dispatch_batch(limit) if limit else (0, 0)
            except Exception:
                logger.exception("dispatching failed; trying again in %.1f s", self._poll_secs)
                for assignment in self._unconfirmed:
                    self._registry.release(assignment)
                self._unconfirmed = []
                gevent.sleep(self._poll_secs)
                continue
            # Tasks left unplaced, or every free slot taken: more may be waiting for room.
            self._short_of_room = claimed < read or (claimed == limit < self._batch_size)
            if claimed and claimed == limit:
                # A full batch went out: there may be more right away.
                gevent.sleep(0)
                continue
            self._wakeup.wait(self._poll_secs)

    def _dispatch_batch(self, limit):
        """Claim and send up to `limit` tasks: how many were read, and how many claimed."""
        read, claimed = self._db.call(self._claim, limit, urgent=True)
        # Committed: the attempts are the database's now.
        self._unconfirmed = []
        lost = []
        by_worker = {}
        for assignment in claimed:
            assignment.marked = True
            if self._registry.assignments.get(assignment.key) is assignment:
                by_worker.setdefault(assignment.worker, []).append(assignment)
            else:
                # Its worker was dropped or restarted while the batch was written.
                lost.append(assignment)
        self.give_back(lost, reasons.reason("lost_before_sent"), "worker_lost")
        for worker, assignments in by_worker.items():
            if len(assignments) > 1 and worker.takes_batches:
                self._sends.spawn(self._send_batch, worker, assignments)
            else:
                for assignment in assignments:
                    self._sends.spawn(self._send, assignment)
        return read, len(claimed)

    def _claim(self, limit):
        """On a database greenlet, in one transaction: read new tasks, place them, mark them.

        Returns how many tasks were read, and the assignments marked `pending`. The slots they
        hold are reserved until the transaction commits. When the job runs
        again (its connection dropped), the previous run's placements are
        looked up first: a commit may have gone through with only its answer
        lost, and those tasks are `pending` for their workers, so they are
        kept and sent; the others are released.
        """
        recovered = self._recover_unconfirmed()
        candidates = queue.fetch_new(limit, self._worker_config["client_slots"])
        room = self._registry.free_slots()
        # When more tasks wait than there are free slots, every free slot is taken within
        # a few batches however the tasks are spread: then each worker is filled in turn
        # (fewer calls, each with several tasks, and their results back in one) rather
        # than one task a worker per batch when the room exceeds a batch.
        fill = len(candidates) == limit < room and queue.due_at_least(room)
        placed = {kind: [] for kind in Kind}
        largest = max((w.max_slots for w in self._registry.workers.values()), default=0)
        for candidate, assignment in zip(candidates,
                                         self._registry.place(candidates, self._deadlines, fill),
                                         strict=True):
            if assignment is not None:
                placed[candidate.kind].append(assignment)
            elif candidate.slots > largest and candidate.key not in self._too_big:
                self._too_big.add(candidate.key)
                logger.warning("%s: needs %d slots and no worker has that many: it waits "
                               "for a larger worker",
                               describe(candidate.kind, candidate.id, candidate.attempts + 1),
                               candidate.slots)
        self._unconfirmed = recovered + [a for assignments in placed.values() for a in assignments]
        claimed = list(recovered)
        # Only a first attempt's wait is the commit-to-worker latency: a retry's
        # includes the attempts before it.
        first_queued = {c.key: c.queued for c in candidates if c.attempts == 0}
        for kind, assignments in placed.items():
            if assignments:
                marked = transitions.mark_pending(
                    kind, [(a.id, a.attempt, a.worker.name) for a in assignments])
                claimed += [a for a in assignments if a.id in marked]
                for assignment in assignments:
                    if assignment.id in marked and assignment.key in first_queued:
                        metrics.placed(kind, first_queued[assignment.key])
                for assignment in assignments:
                    if assignment.id not in marked:
                        self._registry.release(assignment)
        logger.debug("dispatching %d of %d new tasks read (room for %d)", len(claimed),
                     len(candidates), limit)
        return len(candidates), claimed

    def _recover_unconfirmed(self):
        """The previous run's placements that the database has (see `_claim`); releases
        the others."""
        recovered = []
        for kind in Kind:
            placed = [a for a in self._unconfirmed if a.kind == kind]
            if placed:
                kept = transitions.marked(kind, [(a.id, a.attempt, a.worker.name) for a in placed])
                recovered += [a for a in placed if a.id in kept]
        for assignment in self._unconfirmed:
            if assignment not in recovered:
                self._registry.release(assignment)
        if recovered:
            logger.warning("%d tasks were claimed by a commit whose answer was lost with the "
                           "database connection; sending them", len(recovered))
        return recovered

    def _send(self, assignment):
        worker = assignment.worker
        try:
            accepted = worker.client.call(assignment.kind.run_method, _task(assignment))
        except xmlrpc.client.Fault as e:
            if e.faultCode != APPLICATION_ERROR:
                self._unreachable(worker, e, f"{assignment}: ")
                return
            # The worker refused the task itself (its checks named what is wrong):
            # the task is at fault, not the worker, which keeps its other tasks.
            if self._registry.release(assignment):
                self.give_back([assignment], reasons.reason(
                    "refused", worker=worker.name, error=e.faultString), "refused")
            return
        except Exception as e:
            self._unreachable(worker, e, f"{assignment}: ")
            return
        self._handle_acceptance(assignment, accepted)

    def _send_batch(self, worker, assignments):
        """All of `worker`'s tasks from one batch, in one `run_tasks` call."""
        tasks = [dict(_task(a), kind=a.kind) for a in assignments]
        try:
            accepted = worker.client.call("run_tasks", tasks)
        except xmlrpc.client.Fault as e:
            if e.faultCode == METHOD_NOT_FOUND:
                logger.info("worker %s has no run_tasks: sending it one task a call",
                            worker.name)
                worker.takes_batches = False
            elif e.faultCode == APPLICATION_ERROR:
                # One task is refused, and with it the call: each alone shows which.
                logger.warning("worker %s refused %d tasks sent together (%s); sending each "
                               "alone", worker.name, len(tasks), e.faultString)
            else:
                self._unreachable(worker, e, f"{len(tasks)} tasks: ")
                return
            for assignment in assignments:
                self._send(assignment)
            return
        except Exception as e:
            self._unreachable(worker, e, f"{len(tasks)} tasks: ")
            return
        if not (isinstance(accepted, list) and len(accepted) == len(tasks)
                and all(isinstance(a, bool) for a in accepted)):
            self._unreachable(worker, f"run_tasks answered {accepted!r:.100} for "
                              f"{len(tasks)} tasks", "")
            return
        for assignment, taken in zip(assignments, accepted, strict=True):
            self._handle_acceptance(assignment, taken)

    def _unreachable(self, worker, error, what):
        logger.warning("%sworker %s unreachable (%s); dropping the worker", what, worker.name,
                       error)
        if self._registry.workers.get(worker.name) is worker:
            lost = self._registry.drop(worker)
            self.give_back(lost, reasons.reason("unreachable", worker=worker.name,
                                                error=str(error)), "worker_lost")

    def _handle_acceptance(self, assignment, accepted):
        """The worker accepted the task (it runs), or refused it for want of room."""
        worker = assignment.worker
        if accepted:
            logger.debug("%s: sent to %s", assignment, worker.name)
            return
        logger.info("%s: refused by %s (no room); back to the queue", assignment, worker.name)
        worker.full = True
        if self._registry.release(assignment):
            self._db.call(transitions.undo_attempt, assignment.kind, assignment.id,
                          assignment.attempt, reasons.reason("no_room", worker=worker.name))
            self.wake()

    def give_back(self, assignments, reason, cause):
        """Put released assignments' attempts back in the queue (or `failed` past the cap).

        `reason` is the detail stored (stechec.contest.reasons), its English text
        logged; `cause` the word the retries metric counts it under (worker_lost,
        refused, deadline).
        """
        if not assignments:
            return
        for assignment in assignments:
            logger.warning("%s: %s; back to the queue", assignment, reasons.text(reason))
            metrics.RETRIES.labels(assignment.kind, cause).inc()
        tasks = [(a.kind, a.id, a.attempt) for a in assignments if a.marked]
        self._db.call(transitions.give_back, tasks, reason, self._worker_config["max_task_tries"],
                      self._worker_config["retry_delay_secs"])
        self.wake()

    def cancel(self, assignment):
        """Ask the worker to stop an attempt; no result comes for it."""
        try:
            assignment.worker.client.cancel(assignment.kind, assignment.id, assignment.attempt)
        except Exception as e:
            logger.warning("%s: cancel on %s failed: %s", assignment, assignment.worker.name, e)


def _task(assignment):
    """The task as a worker gets it (docs/rpc.md)."""
    return dict(assignment.payload, attempt=assignment.attempt, slots=assignment.slots)
