"""Workers on hosts of their own: matches run on each; a worker cut off the network
is declared dead, its match is redone elsewhere and counted once (its files
too: the late first attempt's never replace them), and the worker comes back
when its link does."""

import os

from django.contrib.auth.models import User
from django.db import transaction

from devtools.contest_data import queue_champion, wait_compiled
from devtools.invariants import log_scores
from stechec.common import paths
from stechec.common.rpc import RPCClient
from stechec.contest.models import Match, MatchPlayer
from stechec.local.seed import samples_dir
from tests.conftest import wait_for

SLOW_CHAMPION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "slow_champion")



def worker_names(cluster):
    return [f"{host.address}:{port}"
            for host, port in zip(cluster.worker_hosts, cluster.worker_ports, strict=True)]


def known_workers(master):
    return {f"{w['hostname']}:{w['port']}" for w in master.status()["workers"]}


def scores(match):
    return sorted(MatchPlayer.objects.filter(match=match).values_list("id", "score"))


def log(cluster, name):
    with open(cluster.path("logs", name), errors="replace") as f:
        return f.read()


def test_workers_on_two_hosts_survive_one_cut_off(spread_cluster):
    cluster = spread_cluster
    master = RPCClient(cluster.master_url, cluster.secret, timeout=10)
    names = worker_names(cluster)
    assert known_workers(master) == set(names)

    player = User.objects.create_user("player")
    quick = [queue_champion(cluster, player, f"random {i}",
                            os.path.join(samples_dir("tictactoe"), "python-random"))
             for i in range(2)]
    slow = [queue_champion(cluster, player, f"slow {i}", SLOW_CHAMPION) for i in range(2)]
    wait_compiled(quick + slow)

    # Each worker runs matches: the master spreads them over the least loaded. Committed
    # together, they are placed together (one at a time, each might find both workers idle).
    with transaction.atomic():
        batch = [Match.launch(quick, author=player) for _ in range(6)]
    wait_for(lambda: Match.objects.filter(pk__in=[m.pk for m in batch],
                                          status=Match.Status.DONE).count() == len(batch),
             "the first matches to finish")
    assert set(Match.objects.filter(pk__in=[m.pk for m in batch])
               .values_list("worker", flat=True)) == set(names)

    # A slow match; the host running it loses its link for longer than the timeout.
    match = Match.launch(slow, author=player)
    wait_for(lambda: Match.objects.filter(pk=match.pk, status=Match.Status.PENDING,
                                          attempts=1).exists(), "the slow match to start")
    match.refresh_from_db()
    cut_name = match.worker
    [other_name] = set(names) - {cut_name}
    cut_host = cluster.worker_hosts[names.index(cut_name)]
    cut_log = f"worker-node-{names.index(cut_name) + 1}.log"
    cut_host.cut()

    wait_for(lambda: known_workers(master) == {other_name}, "the master to drop the worker")
    assert f"worker {cut_name}: no heartbeat" in log(cluster, "master-node.log")
    wait_for(lambda: Match.objects.filter(pk=match.pk, status=Match.Status.DONE).exists(),
             "the match to be redone on the other worker")
    match.refresh_from_db()
    assert (match.attempts, match.worker) == (2, other_name)
    redone = scores(match)
    assert all(score is not None for _, score in redone)
    finished_at = match.finished_at

    # The first attempt has ended on the cut host by now (a match lasts about ten
    # seconds): its result waits for the link.
    wait_for(lambda: f"match {match.id} attempt 1: done" in log(cluster, cut_log),
             "the cut worker to end the first attempt")
    cut_host.restore()
    wait_for(lambda: known_workers(master) == set(names), "the worker to come back")
    stale = f"match {match.id} attempt 1: result from {cut_name} dropped"
    wait_for(lambda: stale in log(cluster, "master-node.log"),
             "the first attempt's result to reach the master and be dropped")

    match.refresh_from_db()
    assert (match.status, match.attempts, match.worker) == (Match.Status.DONE, 2, other_name)
    assert match.finished_at == finished_at
    assert scores(match) == redone
    assert log(cluster, "master-node.log").count(f"match {match.id} attempt 2: done") == 1
    # The files are the second attempt's; the first attempt's went when it was dropped.
    directory = paths.match_dir(cluster.shared_dir, cluster.game, match.id)
    wait_for(lambda: os.listdir(directory) == ["attempt-2"], "the first attempt's files to go")
    assert sorted(log_scores(paths.published(directory)).items()) == redone

    # The returned worker takes work again.
    again = [Match.launch(quick, author=player) for _ in range(4)]
    wait_for(lambda: Match.objects.filter(pk__in=[m.pk for m in again],
                                          status=Match.Status.DONE).count() == len(again),
             "matches after the return to finish")
    assert cut_name in set(Match.objects.filter(pk__in=[m.pk for m in again])
                           .values_list("worker", flat=True))
