"""The janitor: drops silent workers and gives back tasks past their deadline."""

import logging
import time

import gevent

from stechec.contest import reasons

logger = logging.getLogger(__name__)


class Janitor:
    def __init__(self, registry, dispatcher, config):
        self._registry = registry
        self._dispatcher = dispatcher
        self._timeout = config["worker"]["timeout_secs"]
        self._period = min(1.0, self._timeout / 4)

    def run(self):
        while True:
            gevent.sleep(self._period)
            try:
                self.sweep()
            except Exception:
                logger.exception("sweeping workers and deadlines failed")

    def sweep(self):
        now = time.monotonic()
        for worker in list(self._registry.workers.values()):
            if now - worker.last_seen > self._timeout:
                logger.warning("worker %s: no heartbeat for %.0f s; dropping it",
                               worker.name, now - worker.last_seen)
                lost = self._registry.drop(worker)
                self._dispatcher.give_back(lost, reasons.reason("timed_out", worker=worker.name),
                                             "worker_lost")
        late = [a for a in self._registry.assignments.values()
                if a.marked and a.deadline < now]
        for assignment in late:
            if self._registry.release(assignment):
                gevent.spawn(self._dispatcher.cancel, assignment)
                self._dispatcher.give_back([assignment], reasons.reason("deadline"),
                                             "deadline")
