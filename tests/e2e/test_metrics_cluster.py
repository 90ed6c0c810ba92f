"""Every metric the issue names moves while a local cluster plays: the master's, the
workers' and the site's /metrics scraped over HTTP from the running programs.

The cluster's tasks are real: champions compiled (one does not compile), matches
played, a worker killed in the middle of a match (its task is retried), a match
needing more slots than any worker has (it waits), a match whose champion has no
compiled files in the shared directory (its attempts fail). The repeated and the
stale result are what a worker sends when the master's acknowledgement was lost
or after the master gave its task to another worker: the test sends them to the
master as such a worker would, over signed RPC.
"""

import os
import signal

import pytest

from stechec.common.rpc import RPCClient
from stechec.contest.models import Champion, Match
from tests.conftest import metric_sum, scrape

from .conftest import PLAYERS, SAMPLES, running_cluster, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# A tictactoe champion thinking a second a move: its matches last long enough for the
# test to kill their worker while they run.
SLOW_CHAMPION = """import sys
import time

for line in sys.stdin:
    time.sleep(1)
    me, board = line.split()
    cell = board.index(".")
    print(cell // 3, cell % 3)
"""


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory):
    with running_cluster(django_db_blocker, tmp_path_factory.mktemp("cluster"), slots=6,
                         metrics=True) as local:
        yield local


def champion_dir(tmp_path, name, language, source_name, source):
    directory = tmp_path / name
    directory.mkdir()
    (directory / "_lang").write_text(language + "\n")
    (directory / source_name).write_text(source)
    return directory


def compiled(cluster, ids):
    return wait_for(cluster, lambda: Champion.objects.filter(
        pk__in=ids, status__in=[Champion.Status.READY, Champion.Status.ERROR]).count()
        == len(ids), "the champions to compile")


def grew(before, after, name, **labels):
    return metric_sum(after, name, **labels) > metric_sum(before, name, **labels)


def test_every_metric_moves_while_the_cluster_plays(cluster, session, tmp_path):
    urls = cluster.metrics_urls()
    master_before, site_before = scrape(urls["master-node"]), scrape(urls["website"])
    alice = session(PLAYERS[0])
    slow = [alice.upload(f"slow {n}", champion_dir(tmp_path, f"slow{n}", "python",
                                                   "champion.py", SLOW_CHAMPION))
            for n in range(2)]
    compiled(cluster, slow)

    # A worker dies while it runs a match: the master gives the match to the other.
    slow_match = alice.launch_match(*slow)
    running = wait_for(cluster, lambda: Match.objects.filter(
        pk=slow_match, status=Match.Status.PENDING).exclude(worker="").first(),
        "the slow match to start")
    index = cluster.worker_ports.index(int(running.worker.rsplit(":", 1)[1]))
    os.kill(cluster.workers[index].process.pid, signal.SIGKILL)
    wait_for(cluster, lambda: grew(master_before, scrape(urls["master-node"]),
                                   "stechec_master_retries_total", cause="worker_lost"),
             "the master to give the lost worker's match back")
    cluster.start_worker(index)
    cluster.wait_for_workers(2, timeout=120)
    workers_before = {name: scrape(url) for name, url in urls.items()
                      if name.startswith("worker-node")}

    good = alice.upload("good", os.path.join(SAMPLES, "python-good"))
    other = alice.upload("random", os.path.join(SAMPLES, "c-random"))
    broken = alice.upload("broken", champion_dir(tmp_path, "broken", "c", "champion.c",
                                                 "int main(void) { return oops; }\n"))
    compiled(cluster, [good, other, broken])
    matches = [alice.launch_match(good, other) for _ in range(3)]
    # More players than any worker has slots for (1 + 7 × 1 > 6): it waits.
    author = Champion.objects.get(pk=good).author
    Match.launch([Champion.objects.get(pk=good)] * 7, author=author)
    # Ready in the database, but nothing compiled in the shared directory.
    hollow = Champion.objects.create(name="hollow", author=author, status=Champion.Status.READY,
                                     language="c")
    Match.launch([hollow, Champion.objects.get(pk=good)], author=author)

    wait_for(cluster, lambda: Match.objects.filter(
        pk__in=[*matches, slow_match], status=Match.Status.DONE).count() == len(matches) + 1,
        "the matches to be played")
    wait_for(cluster, lambda: grew(master_before, scrape(urls["master-node"]),
                                   "stechec_master_failures_total", reason="shared_directory"),
             "the hollow champion's match to fail")

    # A worker whose acknowledgement was lost sends its result again; then the result of
    # an attempt the master no longer runs.
    master = RPCClient(cluster.master_url, cluster.secret, timeout=30)
    worker = ["127.0.0.1", cluster.worker_ports[0], 0, 6]
    result = {"status": "ready", "language": "python", "log": b"", "reason": ""}
    assert master.compilation_result(worker, good, 1, result) is True
    assert master.compilation_result(worker, good, 2, result) is False

    alice.get("/status/")
    master_after = scrape(urls["master-node"])
    site_after = scrape(urls["website"])
    workers_after = {name: scrape(urls[name]) for name in workers_before}

    def master_grew(name, **labels):
        return grew(master_before, master_after, name, **labels)

    def workers_grew(name, **labels):
        return sum(metric_sum(workers_after[w], name, **labels)
                   - metric_sum(workers_before[w], name, **labels) for w in workers_after) > 0

    assert master_after["stechec_master_tasks_waiting", (("kind", "match"),
                                                         ("priority", "player"))] >= 1
    assert ("stechec_master_tasks_waiting", (("kind", "compile"), ("priority", "player"))) \
        in master_after
    assert master_after["stechec_master_oldest_waiting_seconds", ()] > 0
    for kind in ("compile", "match"):
        assert master_grew("stechec_master_queued_seconds_count", kind=kind), kind
        assert master_grew("stechec_master_task_seconds_count", kind=kind), kind
        assert workers_grew("stechec_worker_task_seconds_count", kind=kind), kind
    for outcome in ("applied", "repeated", "dropped"):
        assert master_grew("stechec_master_results_total", outcome=outcome), outcome
    assert master_grew("stechec_master_retries_total", cause="worker_lost")
    assert master_grew("stechec_master_failures_total", kind="match", reason="shared_directory")
    assert master_after["stechec_master_workers", ()] == 2
    assert master_after["stechec_master_slots", ()] == 12
    assert ("stechec_master_busy_slots", ()) in master_after
    for worker in workers_after.values():
        assert worker["stechec_worker_slots", ()] == 6
        assert ("stechec_worker_busy_slots", ()) in worker
    assert workers_grew("stechec_worker_verdicts_total", program="compiler", ended="exit",
                        language="c")
    assert workers_grew("stechec_worker_verdicts_total", program="compiler", language="python")
    assert workers_grew("stechec_worker_verdicts_total", program="client")
    assert workers_grew("stechec_worker_tasks_total", kind="compile", status="error")
    for view in ("champion-new", "match-new", "cluster-status"):
        assert grew(site_before, site_after, "stechec_www_request_seconds_count", view=view), view
