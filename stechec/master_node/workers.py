"""The workers the master knows, and the tasks it placed on each.

All in memory, rebuilt from heartbeats after a restart (the database holds
the tasks; on start the master puts every `pending` one back to `new`). The
master counts a worker's free slots itself, from the tasks it placed there,
rather than trusting a heartbeat that may predate the latest placement.
"""

import collections
import heapq
import logging
import random
import time

from stechec.common import tasks
from stechec.common.rpc import RPCClient, server_url

logger = logging.getLogger(__name__)

# How many of the latest results `result_arrived` remembers.
MAX_ARRIVED_RESULTS = 10000


class Assignment:
    """One attempt of one task, placed on one worker."""

    def __init__(self, kind, task_id, attempt, slots, payload, worker, deadline):
        self.kind = kind
        self.id = task_id
        self.slots = slots
        self.payload = payload
        self.worker = worker
        self.deadline = deadline
        self.attempt = attempt
        self.placed = time.monotonic()
        # Set once the database has the attempt (see transitions.mark_pending).
        self.marked = False

    @property
    def key(self):
        return self.kind, self.id

    def ref(self):
        return tasks.TaskRef(kind=self.kind, id=self.id, attempt=self.attempt)

    def __str__(self):
        return tasks.describe(self.kind, self.id, self.attempt)


class Worker:
    def __init__(self, hostname, port, max_slots, secret, rpc_timeout):
        self.hostname = hostname
        self.port = port
        self.name = f"{hostname}:{port}"
        self.max_slots = max_slots
        self.last_heartbeat = time.time()
        self.last_seen = time.monotonic()
        self.client = RPCClient(server_url(hostname, port), secret, timeout=rpc_timeout)
        self.tasks = {}
        self.used_slots = 0
        # Set when the worker refused a task for want of room (it still runs
        # something the master does not count): nothing more is placed there
        # until its next heartbeat.
        self.full = False
        # Whether it takes several tasks in one `run_tasks` call: true until
        # it answers that it has no such method, and again when it restarts.
        self.takes_batches = True
        # Why it takes no task (from its heartbeats: its shared directory is not
        # mounted); nothing is placed there while it is set.
        self.problem = ""
        # Drained by staff (stechec.contest.operations): it finishes what it runs
        # and gets nothing new.
        self.draining = False

    @property
    def free_slots(self):
        if self.full or self.problem or self.draining:
            return 0
        return self.max_slots - self.used_slots

    @property
    def load(self):
        return self.used_slots / self.max_slots if self.max_slots else 1.0

    def status(self):
        return {"hostname": self.hostname, "port": self.port, "free_slots": self.free_slots,
                "max_slots": self.max_slots, "last_heartbeat": self.last_heartbeat,
                "problem": self.problem, "draining": self.draining,
                "running": [dict(a.ref(), seconds=round(time.monotonic() - a.placed, 1))
                            for a in self.tasks.values() if a.marked]}


class WorkerRegistry:
    def __init__(self, secret, rpc_timeout):
        self._secret = secret
        self._rpc_timeout = rpc_timeout
        self.workers = {}
        self.assignments = {}
        # Workers staff drained, by name: one that joins later is drained too.
        self._drained = frozenset()
        # The latest attempts whose results arrived, (kind, id, attempt), oldest
        # first: a worker still lists one while it waits for the answer.
        self._arrived_results = collections.OrderedDict()

    def heartbeat(self, hostname, port, max_slots, problem=""):
        """The worker that sent a heartbeat, registered if new; and whether it has new room."""
        name = f"{hostname}:{port}"
        worker = self.workers.get(name)
        more_room = worker is None or worker.full or worker.max_slots < max_slots or (
            worker.problem and not problem)
        if worker is None:
            worker = self.workers[name] = Worker(hostname, port, max_slots, self._secret,
                                                 self._rpc_timeout)
            worker.draining = name in self._drained
            logger.info("worker %s joined with %d slots", name, max_slots)
        elif worker.max_slots != max_slots:
            logger.info("worker %s now has %d slots (was %d)", name, max_slots, worker.max_slots)
            worker.max_slots = max_slots
        if problem != worker.problem:
            if problem:
                logger.warning("worker %s takes no task: %s", name, problem)
            else:
                logger.info("worker %s takes tasks again", name)
            worker.problem = problem
        worker.last_heartbeat = time.time()
        worker.last_seen = time.monotonic()
        worker.full = False
        return worker, more_room

    def drain(self, names):
        """Drain the workers named in `names` (host:port), and no others."""
        self._drained = frozenset(names)
        for worker in self.workers.values():
            worker.draining = worker.name in self._drained

    def seen(self, name):
        worker = self.workers.get(name)
        if worker is not None:
            worker.last_seen = time.monotonic()

    def free_slots(self):
        return sum(w.free_slots for w in self.workers.values() if w.free_slots > 0)

    def place(self, candidates, deadlines, fill=False):
        """Reserve slots for each candidate on the least-loaded worker that has enough free.

        Random among equally loaded workers, so that they share the work.
        With `fill`, on the worker with the fewest free slots that has
        enough instead: a worker takes tasks until it is full, so that they
        go to it in one call and their results come back together; for
        when every free slot is to be taken anyway (see Dispatcher._claim).
        `deadlines` gives the seconds each kind of task may take. Returns
        one assignment per candidate, None for a candidate no worker has room for.
        """
        # (load or free slots, random tie-break, worker): the heap's top is the
        # worker to take the next task, a random one among equals.
        def rank(worker):
            return (worker.free_slots if fill else worker.load, random.random(), worker)
        heap = [rank(w) for w in self.workers.values() if w.free_slots > 0]
        heapq.heapify(heap)
        assignments = []
        for candidate in candidates:
            too_small = []
            worker = None
            while heap:
                entry = heapq.heappop(heap)
                if entry[2].free_slots >= candidate.slots:
                    worker = entry[2]
                    break
                too_small.append(entry)
            for entry in too_small:
                heapq.heappush(heap, entry)
            if worker is None:
                assignments.append(None)
                continue
            assignment = Assignment(candidate.kind, candidate.id, candidate.attempts + 1,
                                    candidate.slots, candidate.payload, worker,
                                    time.monotonic() + deadlines[candidate.kind])
            worker.tasks[assignment.key] = assignment
            worker.used_slots += assignment.slots
            self.assignments[assignment.key] = assignment
            assignments.append(assignment)
            if worker.free_slots > 0:
                heapq.heappush(heap, rank(worker))
        return assignments

    def release(self, assignment):
        """Forget `assignment` and free its slots; false when it was already gone."""
        if self.assignments.get(assignment.key) is not assignment:
            return False
        del self.assignments[assignment.key]
        del assignment.worker.tasks[assignment.key]
        assignment.worker.used_slots -= assignment.slots
        return True

    def finish(self, kind, task_id, attempt):
        """A result arrived: the assignment it ends, released; None when it ends none."""
        assignment = self.assignments.get((kind, task_id))
        if assignment is None or not assignment.marked or assignment.attempt != attempt:
            return None
        self.release(assignment)
        self._arrived_results[kind, task_id, attempt] = True
        if len(self._arrived_results) > MAX_ARRIVED_RESULTS:
            self._arrived_results.popitem(last=False)
        return assignment

    def result_arrived(self, ref):
        """Whether the result of task ref `ref` came in (lately)."""
        return (ref["kind"], ref["id"], ref["attempt"]) in self._arrived_results

    def drop(self, worker):
        """Forget `worker`; the assignments it had, released."""
        self.workers.pop(worker.name, None)
        return self.take_tasks(worker)

    def take_tasks(self, worker):
        lost = list(worker.tasks.values())
        for assignment in lost:
            self.release(assignment)
        return lost

    def is_current(self, ref, worker):
        """Whether task ref `ref` is the attempt the master placed on `worker`."""
        assignment = self.assignments.get((ref["kind"], ref["id"]))
        return (assignment is not None and assignment.worker is worker and assignment.marked
                and assignment.attempt == ref["attempt"])
