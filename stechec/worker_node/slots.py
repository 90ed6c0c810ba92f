"""The worker's slots and the tasks holding them.

A task takes its slots when it is accepted and gives them back as soon as
its programs are done, whatever the outcome. It stays in the table (and in
the heartbeat's `running` list) until its result is delivered to the master
or given up, so that the master never sees a finished task vanish before its
result arrived.
"""

import logging

from stechec.common import tasks
from stechec.common.rpc import RPCError
from stechec.worker_node.sandbox import KillReason

logger = logging.getLogger(__name__)


class Task:
    def __init__(self, kind, task_id, attempt, slots):
        self.kind = kind
        self.id = task_id
        self.attempt = attempt
        self.slots = slots
        self.holds_slots = True
        self.cancelled = False
        self.runs = set()

    def __str__(self):
        return tasks.describe(self.kind, self.id, self.attempt)

    @property
    def ref(self):
        return tasks.TaskRef(kind=self.kind, id=self.id, attempt=self.attempt)

    def track(self, run):
        """Remember a running program, so that `cancel` can kill it."""
        if self.cancelled:
            run.kill(KillReason.CANCEL)
        self.runs.add(run)

    def untrack(self, run):
        self.runs.discard(run)

    def cancel(self):
        self.cancelled = True
        for run in list(self.runs):
            run.kill(KillReason.CANCEL)

    def stop_programs(self):
        """Kill and reap every program still running for this task (after a worker error)."""
        for run in list(self.runs):
            run.kill(KillReason.CANCEL)
            run.wait()
            self.untrack(run)


class TaskTable:
    def __init__(self, max_slots):
        self.max_slots = max_slots
        self._used = 0
        self._tasks = {}

    @property
    def free_slots(self):
        return self.max_slots - self._used

    def check_attempt(self, kind, task_id, attempt):
        """Refuse (RPCError) an attempt when the same or a newer one of the task is here."""
        current = self._tasks.get((kind, task_id))
        if current is not None and current.attempt >= attempt:
            raise RPCError(f"{current} is already running here")

    def claim(self, kind, task_id, attempt, slots):
        """A new `Task` holding `slots`, or None when there are not enough free slots."""
        self.check_attempt(kind, task_id, attempt)
        current = self._tasks.get((kind, task_id))
        if current is not None and not current.cancelled:
            # The master numbered a new attempt (it restarted, or lost this worker for a
            # while): the old one's result would be dropped. Refusing the new one instead
            # made the master drop this worker and charge an attempt to all its tasks.
            logger.info("%s: superseded by attempt %d; cancelling it", current, attempt)
            current.cancel()
        if slots > self.free_slots:
            return None
        task = Task(kind, task_id, attempt, slots)
        self._tasks[(kind, task_id)] = task
        self._used += slots
        return task

    def release_slots(self, task):
        if task.holds_slots:
            task.holds_slots = False
            self._used -= task.slots

    def forget(self, task):
        self.release_slots(task)
        if self._tasks.get((task.kind, task.id)) is task:
            del self._tasks[(task.kind, task.id)]

    def get(self, kind, task_id):
        return self._tasks.get((kind, task_id))

    def running(self):
        return [task.ref for task in self._tasks.values()]

    def cancel_all(self):
        for task in list(self._tasks.values()):
            task.cancel()
