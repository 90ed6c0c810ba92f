"""The worker's Prometheus metrics, scraped from a real worker process."""

import re

from tests.conftest import metric_sum, scrape, wait_for
from tests.worker_node.conftest import C_CHAMPION


def test_the_worker_exports_its_tasks_verdicts_and_slots(start_worker):
    worker = start_worker(worker={"metrics_port": 0})
    url = wait_for(lambda: re.search(r"metrics at (http://\S+)", worker.log()),
                   "the worker to serve its metrics").group(1)
    before = scrape(url)
    assert before["stechec_worker_slots", ()] == 4
    assert metric_sum(before, "stechec_worker_tasks_total") == 0

    assert worker.compile("alice", 1, {"prologin.c": C_CHAMPION})["status"] == "ready"
    assert worker.compile("alice", 2, {"prologin.c": "int main( {"})["status"] == "error"

    after = scrape(url)
    assert after["stechec_worker_tasks_total", (("kind", "compile"), ("status", "ready"))] == 1
    assert after["stechec_worker_tasks_total", (("kind", "compile"), ("status", "error"))] == 1
    assert after["stechec_worker_task_seconds_count", (("kind", "compile"),)] == 2
    assert metric_sum(after, "stechec_worker_verdicts_total", program="compiler",
                      language="c", ended="exit") == 2
    assert after["stechec_worker_busy_slots", ()] == 0
