"""The master's Prometheus metrics (docs/master-node.md, Metrics).

Labels are the task's kind and what happened to it, never its id: the
series stay few however many tasks the contest runs.
"""

import logging
import time

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

from stechec.common.metrics import DURATION_BUCKETS
from stechec.master_node import queue

logger = logging.getLogger(__name__)

RESULTS = Counter("stechec_master_results", "Results that workers sent, by what became of them "
                  "(applied, repeated: the same again, dropped: a stale attempt, refused)",
                  ["kind", "outcome"])
TASK_SECONDS = Histogram("stechec_master_task_seconds", "From a task's placement on a worker "
                         "to its result", ["kind"], buckets=DURATION_BUCKETS)
RETRIES = Counter("stechec_master_retries", "Attempts given back to the queue, by why "
                  "(worker_lost, refused: by the worker, deadline)", ["kind", "cause"])
WORKERS = Gauge("stechec_master_workers", "Workers the master hears from")
SLOTS = Gauge("stechec_master_slots", "Slots the workers offer")
BUSY_SLOTS = Gauge("stechec_master_busy_slots", "Slots given to running tasks")
PAUSED = Gauge("stechec_master_paused", "1 while staff have paused dispatching, else 0")
DRAINING = Gauge("stechec_master_draining_workers", "Workers drained by staff that the master "
                 "hears from")


class QueueCollector:
    """The queue's figures, read from the database at each scrape (one short
    transaction on a database greenlet: the hub goes on meanwhile)."""

    def __init__(self, database):
        self._database = database

    def describe(self):
        """The families without their figures: what registering the collector asks for,
        instead of a first read of the database."""
        return [GaugeMetricFamily("stechec_master_tasks_waiting",
                                  "Tasks waiting for a worker, by kind and priority",
                                  labels=["kind", "priority"]),
                GaugeMetricFamily("stechec_master_oldest_waiting_seconds",
                                  "Age of the oldest task waiting for a worker (0: none)")]

    def collect(self):
        waiting, oldest = self.describe()
        try:
            sizes, oldest_ts = self._database.call(queue.waiting)
        except Exception:
            # A scrape without the queue's figures (Prometheus sees them missing)
            # rather than no metrics at all.
            logger.exception("reading the queue for the metrics failed")
            return
        for (kind, priority), count in sorted(sizes.items()):
            waiting.add_metric([kind, priority], count)
        oldest.add_metric([], 0 if oldest_ts is None else time.time() - oldest_ts.timestamp())
        yield waiting
        yield oldest


def watch(registry, database, dispatcher):
    """Read the worker figures from `registry`, the queue's from `database` and whether
    dispatching is paused from `dispatcher` at each scrape."""
    WORKERS.set_function(lambda: len(registry.workers))
    SLOTS.set_function(lambda: sum(w.max_slots for w in registry.workers.values()))
    BUSY_SLOTS.set_function(lambda: sum(w.used_slots for w in registry.workers.values()))
    PAUSED.set_function(lambda: int(dispatcher.paused))
    DRAINING.set_function(lambda: sum(w.draining for w in registry.workers.values()))
    REGISTRY.register(QueueCollector(database))
