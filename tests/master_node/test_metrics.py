"""The master's Prometheus metrics, scraped from a running master over HTTP."""

import urllib.error
import urllib.request

import pytest

from stechec.contest.models import Champion
from tests.conftest import metric_sum, scrape

from .conftest import all_finished, new_champions, new_matches, wait_for


def test_the_master_exports_its_queue_workers_and_results(cluster, player):
    master = cluster.start_master(metrics=True)
    champions = [c.id for c in new_champions(player, 2)]
    new_matches(player, 1)
    before = scrape(master.metrics_url)
    assert before["stechec_master_tasks_waiting", (("kind", "compile"),
                                                   ("priority", "player"))] == 2
    assert before["stechec_master_tasks_waiting", (("kind", "match"),
                                                   ("priority", "player"))] == 1
    assert before["stechec_master_tasks_waiting", (("kind", "match"),
                                                   ("priority", "background"))] == 0
    assert before["stechec_master_oldest_waiting_seconds", ()] > 0
    assert before["stechec_master_workers", ()] == 0

    cluster.start_workers("pool", count=2, slots=3)
    wait_for(lambda: all_finished(Champion, champions, Champion.Status.READY) and
             scrape(master.metrics_url)["stechec_master_tasks_waiting",
                                        (("kind", "match"), ("priority", "player"))] == 0,
             "the champions to compile and the match to start")
    after = wait_for(lambda: _results_counted(master.metrics_url, 3), "the results counted")
    assert after["stechec_master_results_total", (("kind", "compile"),
                                                  ("outcome", "applied"))] == 2
    assert after["stechec_master_task_seconds_count", (("kind", "compile"),)] == 2
    assert after["stechec_master_task_seconds_count", (("kind", "match"),)] == 1
    assert after["stechec_master_workers", ()] == 2
    assert after["stechec_master_slots", ()] == 6
    assert after["stechec_master_busy_slots", ()] == 0
    assert after["stechec_master_oldest_waiting_seconds", ()] == 0


def _results_counted(url, count):
    samples = scrape(url)
    applied = metric_sum(samples, "stechec_master_results_total", outcome="applied")
    return samples if applied == count else None


def test_the_metrics_server_serves_only_metrics(cluster):
    master = cluster.start_master(metrics=True)
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(master.metrics_url.replace("/metrics", "/other"), timeout=30)
    assert error.value.code == 404
