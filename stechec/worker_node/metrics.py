"""The worker's Prometheus metrics (docs/worker-node.md, Metrics).

Labels are words from small sets (kinds, statuses, verdict endings and
limits, languages), never a task or champion id.
"""

from prometheus_client import Counter, Gauge, Histogram

from stechec.common.metrics import DURATION_BUCKETS
from stechec.common.tasks import Kind

TASKS = Counter("stechec_worker_tasks", "Tasks this worker ran to a result, by kind and the "
                "result's status", ["kind", "status"])
TASK_SECONDS = Histogram("stechec_worker_task_seconds", "How long this worker took to compile "
                         "a champion or run a match", ["kind"], buckets=DURATION_BUCKETS)
VERDICTS = Counter("stechec_worker_verdicts", "How the programs the worker ran ended "
                   "(stechec.common.verdicts): program is compiler, server or client; "
                   "language is the champion's, known for compilations", ["program", "ended",
                                                                          "limit", "language"])
SLOTS = Gauge("stechec_worker_slots", "Slots this worker offers")
BUSY_SLOTS = Gauge("stechec_worker_busy_slots", "Slots held by running tasks")


def watch(table):
    """Read the slots from the worker's TaskTable `table` at each scrape."""
    SLOTS.set_function(lambda: table.max_slots)
    BUSY_SLOTS.set_function(lambda: table.max_slots - table.free_slots)


def record(kind, result, seconds):
    """Count a task's `result`, which took `seconds`."""
    TASKS.labels(kind, result["status"]).inc()
    TASK_SECONDS.labels(kind).observe(seconds)
    if kind == Kind.COMPILE:
        _verdict("compiler", result.get("verdict"), result["language"])
    else:
        _verdict("server", result.get("server_verdict"), "")
        for player in result["players"]:
            _verdict("client", player.get("verdict"), "")


def _verdict(program, verdict, language):
    if verdict is not None:
        VERDICTS.labels(program, verdict["ended"], verdict.get("limit") or "", language).inc()
