"""Workers and the master dying or stalling: every task still finishes, none twice."""

import collections

import pytest

from stechec.common.rpc import RPCClient
from stechec.contest import transitions
from stechec.contest.models import Champion, Match, MatchPlayer

from .conftest import SECRET, all_finished, new_champions, new_matches, wait_for


def applied_counts(*worker_processes):
    counts = collections.Counter()
    for workers in worker_processes:
        for event in workers.events("reported"):
            counts[event["kind"], event["id"]] += event["applied"]
    return counts


def received(workers, kind, task_id):
    return [e for e in workers.events("received") if e["kind"] == kind and e["id"] == task_id]


def test_a_match_on_a_killed_worker_finishes_on_another_with_its_scores_written_once(
        cluster, player):
    master = cluster.start_master(timeout_secs=2.0)
    stuck = cluster.start_workers("stuck", slots=3, hold=True)
    [match] = new_matches(player, 1)
    wait_for(lambda: received(stuck, "match", match.id), "the stuck worker to get the match")
    stuck.kill()
    wait_for(lambda: "timed out" in master.logs(), "the master to give up the killed worker")
    # Only now: the healthy worker's heartbeats are not raced against the 2 s timeout while
    # the killed one's run out.
    healthy = cluster.start_workers("healthy", slots=3)

    wait_for(lambda: all_finished(Match, [match.id], Match.Status.DONE), "the match to finish")
    wait_for(lambda: healthy.events("reported"), "the worker to hear its result was applied")

    match.refresh_from_db()
    assert match.attempts == 2
    assert match.worker == healthy.names[0]
    assert [e["attempt"] for e in received(healthy, "match", match.id)] == [2]
    assert applied_counts(healthy)["match", match.id] == 1
    assert all(mp.score == mp.id for mp in MatchPlayer.objects.filter(match=match))


def test_a_restarted_worker_gets_its_tasks_again(cluster, player):
    cluster.start_master()
    stuck = cluster.start_workers("stuck", slots=6, hold=True)
    [match] = new_matches(player, 1)
    wait_for(lambda: received(stuck, "match", match.id), "the worker to get the match")

    # What the worker says on its first heartbeat after a restart.
    port = int(stuck.names[0].split(":")[1])
    assert RPCClient(cluster.master.url, SECRET).heartbeat(["127.0.0.1", port, 6, 6], True, [])

    wait_for(lambda: len(received(stuck, "match", match.id)) == 2, "the match to be sent again")
    assert [e["attempt"] for e in received(stuck, "match", match.id)] == [1, 2]
    match.refresh_from_db()
    assert (match.status, match.attempts) == (Match.Status.PENDING, 2)


def test_a_task_past_its_deadline_is_cancelled_retried_then_failed(cluster, player):
    cluster.start_master(compilation_deadline_secs=1.0, max_task_tries=2)
    stuck = cluster.start_workers("stuck", slots=2, hold=True)
    [champion] = new_champions(player, 1)

    wait_for(lambda: all_finished(Champion, [champion.id], Champion.Status.FAILED),
             "the champion to fail")

    champion.refresh_from_db()
    assert champion.attempts == 2
    assert champion.failure_reason == \
        "gave up after 2 attempts; last: no result before the deadline"
    assert [e["attempt"] for e in stuck.events("received")] == [1, 2]
    wait_for(lambda: len(stuck.events("cancelled")) == 2, "both attempts to be cancelled")


def test_a_master_restart_does_not_use_up_a_try(cluster, player):
    """Attempt 1 is lost with the master, attempt 2 with its worker: with two tries
    allowed, the match still gets a third attempt, which finishes it."""
    master = cluster.start_master(timeout_secs=2.0, max_task_tries=2)
    stuck = cluster.start_workers("stuck", slots=3, hold=True)
    [match] = new_matches(player, 1)
    wait_for(lambda: received(stuck, "match", match.id), "the worker to get attempt 1")
    master.kill()
    master.start()
    wait_for(lambda: len(received(stuck, "match", match.id)) == 2, "attempt 2")
    stuck.kill()
    healthy = cluster.start_workers("healthy", slots=3)

    wait_for(lambda: all_finished(Match, [match.id], Match.Status.DONE), "the match to finish")
    match.refresh_from_db()
    assert (match.attempts, match.uncounted_attempts) == (3, 1)
    assert [e["attempt"] for e in received(healthy, "match", match.id)] == [3]


@pytest.mark.parametrize("kind", ["compile", "match"])
def test_a_requeued_task_gets_all_its_tries_again(player, kind):
    """A staff requeue (champions) or rerun (matches) of a task given up after its
    max_task_tries: its next attempt failing for the platform's reasons is retried."""
    model = Champion if kind == "compile" else Match
    [task] = new_champions(player, 1) if kind == "compile" else new_matches(player, 1)
    model.objects.filter(pk=task.pk).update(status="failed", attempts=3,
                                            failure_reason="gave up after 3 attempts")
    requeue = transitions.requeue_champions if kind == "compile" else transitions.rerun_matches
    assert requeue(model.objects.filter(pk=task.pk)) == 1
    # The master claims attempt 4, and loses it with its worker.
    model.objects.filter(pk=task.pk).update(status="pending", attempts=4)

    assert transitions.retry_or_fail(model, task.pk, 4, "worker lost", max_tries=3)
    task.refresh_from_db()
    assert (task.status, task.failure_reason) == ("new", "worker lost")


def test_a_master_killed_under_load_and_restarted_finishes_every_task_once(cluster, player):
    master = cluster.start_master()
    pools = [cluster.start_workers(f"pool{i}", count=2, slots=4, delay=0.3) for i in range(2)]
    champions = [c.id for c in new_champions(player, 40)]
    matches = [m.id for m in new_matches(player, 15)]
    wait_for(lambda: sum(len(p.events("reported")) for p in pools) >= 10,
             "some results before the kill")

    master.kill()
    master.start()
    wait_for(lambda: all_finished(Champion, champions, Champion.Status.READY) and
             all_finished(Match, matches, Match.Status.DONE), "every task to finish", 120)

    counts = applied_counts(*pools)
    assert max(counts.values()) == 1
    # Every attempt went to one worker once.
    attempts = collections.Counter((e["kind"], e["id"], e["attempt"])
                                   for p in pools for e in p.events("received"))
    assert max(attempts.values()) == 1
    assert "put " in master.logs() and "left pending back in the queue" in master.logs()
    assert all(mp.score == mp.id for mp in MatchPlayer.objects.filter(match_id__in=matches))
