"""The master's Prometheus metrics, scraped from a running master over HTTP."""

import urllib.error
import urllib.request

import pytest

from stechec.contest.models import Champion
from stechec.master_node import metrics
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
    # Each task's wait from its creation to its first worker, once.
    assert after["stechec_master_queued_seconds_count", (("kind", "compile"),)] == 2
    assert after["stechec_master_queued_seconds_count", (("kind", "match"),)] == 1
    assert after["stechec_master_queued_seconds_sum", (("kind", "match"),)] > 0
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


@pytest.mark.parametrize(("sentence", "word"), [
    ("the sources are missing from the shared directory", "shared_directory"),
    ("champion 4: cannot unpack its compiled archive: no such file", "shared_directory"),
    ("the game did not finish: the game server was killed after 60 s", "did_not_finish"),
    ("the game server did not open its socket within 10 s", "server_start"),
    ("unreadable server output: no YAML", "server_output"),
    ("the game server reported no score for player(s) 3", "server_output"),
    ("the game server killed by signal 11: Segmentation fault", "server_failed"),
    ("worker host:1 failed: OSError: disk full", "worker_error"),
    ("something new", "other"),
])
def test_failure_sentences_map_to_few_words(sentence, word):
    assert metrics.failure_reason(sentence) == word
