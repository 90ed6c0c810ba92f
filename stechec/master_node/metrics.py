"""The master's Prometheus metrics (docs/master-node.md, Metrics).

Labels are the task's kind and what happened to it, never its id: the
series stay few however many tasks the contest runs.
"""

import logging
import time

from django.utils import timezone
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
FAILURES = Counter("stechec_master_failures", "Attempts that workers reported failed for the "
                   "platform's reasons, by kind and reason (a word for the worker's sentence, "
                   "see FAILURE_REASONS)", ["kind", "reason"])
# Seconds: from a few milliseconds (an idle cluster) to an hour (a backlog).
QUEUED_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
QUEUED_SECONDS = Histogram("stechec_master_queued_seconds", "From a task's creation (the commit "
                           "that queued it) to its first placement on a worker", ["kind"],
                           buckets=QUEUED_BUCKETS)
WORKERS = Gauge("stechec_master_workers", "Workers the master hears from")
SLOTS = Gauge("stechec_master_slots", "Slots the workers offer")
BUSY_SLOTS = Gauge("stechec_master_busy_slots", "Slots given to running tasks")
PAUSED = Gauge("stechec_master_paused", "1 while staff have paused dispatching, else 0")
DRAINING = Gauge("stechec_master_draining_workers", "Workers drained by staff that the master "
                 "hears from")


# What a worker's failure sentence says (stechec/worker_node: compilation.py, matches.py,
# service.py) to the word the failures metric counts it under: the first match wins. A
# label per sentence would make a series per champion's error message.
FAILURE_REASONS = (
    ("did not finish", "did_not_finish"),
    ("did not open its socket", "server_start"),
    ("unreadable server output", "server_output"),
    ("reported no score", "server_output"),
    ("shared directory", "shared_directory"),
    ("cannot unpack", "shared_directory"),
    ("the game server", "server_failed"),
    ("worker ", "worker_error"),
)


def failure_reason(sentence):
    """The word of FAILURE_REASONS for a worker's failure `sentence`, else "other"."""
    return next((word for part, word in FAILURE_REASONS if part in sentence), "other")


def failed(kind, sentence):
    FAILURES.labels(kind, failure_reason(sentence)).inc()


def placed(kind, queued):
    """A task created at `queued` (an aware datetime) is on a worker for the first time."""
    QUEUED_SECONDS.labels(kind).observe(max(0.0, (timezone.now() - queued).total_seconds()))


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
