"""Several tasks in one call (`run_tasks`), several results in one (`task_results`)."""

import collections
import xmlrpc.client

import pytest
from django.db import transaction

from stechec.common.rpc import RPCClient
from stechec.contest.models import Champion, Match, MatchPlayer

from .conftest import SECRET, all_finished, new_champions, new_matches, wait_for
from .test_rpc import assert_untouched, match_result


def test_a_worker_gets_its_share_of_a_batch_in_one_call(cluster, player):
    # Queued before the master starts: its first batch places all four on the one worker.
    champions = [c.id for c in new_champions(player, 4)]
    cluster.start_master()
    workers = cluster.start_workers("pool", slots=4)

    # The worker records each answer once the master's reply is in.
    wait_for(lambda: len(workers.events("reported")) == 4, "every result to be reported")

    received = workers.events("received")
    assert {(e["call"], e["batch"]) for e in received} == {("run_tasks", 4)}
    assert sorted(e["id"] for e in received) == sorted(champions)
    reported = workers.events("reported")
    assert sorted(e["id"] for e in reported) == sorted(champions)
    assert all(e["applied"] is True for e in reported)
    assert set(Champion.objects.filter(pk__in=champions).values_list("attempts", flat=True)) \
        == {1}


def joined_pool(cluster, count):
    """`count` simulated workers of 4 slots that hold their tasks, all known to the master."""
    cluster.start_master()
    workers = cluster.start_workers("pool", count=count, slots=4, hold=True)
    status = RPCClient(cluster.master.url, SECRET)
    wait_for(lambda: len(status.status()["workers"]) == count, "every worker to join")
    return workers


def queue_at_once(player, count):
    """`count` champions queued in one transaction: the master sees them all together."""
    with transaction.atomic():
        new_champions(player, count)


def call_sizes(received):
    """How many tasks came in each call, from the workers' received events (a call's
    tasks are recorded one after the other, each with the call's size)."""
    sizes = []
    by_worker = collections.defaultdict(list)
    for event in received:
        by_worker[event["worker"]].append(event["batch"])
    for batches in by_worker.values():
        i = 0
        while i < len(batches):
            sizes.append(batches[i])
            i += batches[i]
    return sorted(sizes)


def test_a_queue_longer_than_the_room_fills_workers_in_turn(cluster, player):
    # 80 free slots, more than a batch (50), and more tasks waiting than that.
    workers = joined_pool(cluster, 20)
    queue_at_once(player, 200)
    wait_for(lambda: len(workers.events("received")) == 80, "every slot to be taken")
    # The first batch fills 12 workers and half of one, each in one call; the second, the
    # last 30 free slots: the 7 idle workers and the rest of the half-filled one.
    assert call_sizes(workers.events("received")) == [2, 2] + [4] * 19


def test_a_queue_shorter_than_the_room_is_spread(cluster, player):
    workers = joined_pool(cluster, 20)
    queue_at_once(player, 40)
    wait_for(lambda: len(workers.events("received")) == 40, "every task to be sent")
    # Not every free slot is wanted: the least-loaded worker takes each task.
    assert collections.Counter(e["worker"] for e in workers.events("received")) == {
        name: 2 for name in workers.names}


def test_tasks_a_worker_refuses_from_a_batch_go_back_uncounted(cluster, player):
    champions = [c.id for c in new_champions(player, 4)]
    cluster.start_master()
    # It says 4 slots, but 2 are taken by something the master does not know of.
    workers = cluster.start_workers("crowded", slots=4, busy=2, delay=0.5)

    wait_for(lambda: all_finished(Champion, champions, Champion.Status.READY),
             "every champion to be compiled")

    first = [e for e in workers.events() if e.get("call") == "run_tasks"][:4]
    assert [e["event"] for e in first].count("received") == 2
    refused = {e["id"] for e in first if e["event"] == "refused"}
    assert len(refused) == 2
    received = workers.events("received")
    assert sorted(e["id"] for e in received) == sorted(champions)
    # A refused attempt keeps its number (never reused) but does not count as a try:
    # each champion was compiled at its first counted one.
    assert sorted(e["attempt"] for e in received)[:2] == [1, 1]
    assert min(e["attempt"] for e in received if e["id"] in refused) > 1
    assert {c.attempts - c.uncounted_attempts
            for c in Champion.objects.filter(pk__in=champions)} == {1}
    assert "refused by 127.0.0.1" in cluster.master.logs()


def test_a_worker_without_run_tasks_gets_one_task_a_call(cluster, player):
    champions = [c.id for c in new_champions(player, 4)]
    matches = [m.id for m in new_matches(player, 2)]
    cluster.start_master()
    workers = cluster.start_workers("old", slots=4, single=True)

    wait_for(lambda: all_finished(Champion, champions, Champion.Status.READY) and
             all_finished(Match, matches, Match.Status.DONE), "every task to finish")

    received = workers.events("received")
    assert {e["call"] for e in received} <= {"compile_champion", "run_match"}
    assert sorted(e["id"] for e in received if e["kind"] == "compile") == sorted(champions)
    assert sorted(e["id"] for e in received if e["kind"] == "match") == sorted(matches)
    assert {e["attempt"] for e in received} == {1}
    assert not workers.events("refused")
    assert "has no run_tasks: sending it one task a call" in cluster.master.logs()


@pytest.fixture
def pending_tasks(cluster, player):
    """Two champions and a match pending (attempt 1) on a worker that never reports them."""
    champions = new_champions(player, 2)
    [match] = new_matches(player, 1)
    cluster.start_master()
    stuck = cluster.start_workers("stuck", slots=5, hold=True)
    wait_for(lambda: len(stuck.events("received")) == 3, "the worker to get every task")
    worker = ["127.0.0.1", int(stuck.names[0].split(":")[1]), 0, 5]
    return champions, match, worker, RPCClient(cluster.master.url, SECRET)


def compiled(champion, attempt=1, status="ready"):
    return {"kind": "compile", "id": champion.id, "attempt": attempt,
            "result": {"status": status, "language": "c", "log": "", "reason": ""}}


def test_task_results_applies_each_once_and_drops_stale_ones(pending_tasks, cluster):
    [first, second], match, worker, client = pending_tasks

    outcomes = client.task_results(worker, [
        compiled(first), compiled(second, attempt=2), compiled(first, status="error"),
        {"kind": "match", "id": match.id, "attempt": 1, "result": match_result(match)}])

    assert outcomes == [True, False, False, True]
    first.refresh_from_db()
    second.refresh_from_db()
    match.refresh_from_db()
    assert first.status == Champion.Status.READY
    assert (second.status, second.attempts) == (Champion.Status.PENDING, 1)
    assert match.status == Match.Status.DONE
    assert all(mp.score == mp.id for mp in MatchPlayer.objects.filter(match=match))
    assert client.task_results(worker, [compiled(second)]) == [True]
    # The same results again (their answer was lost): true, applied once.
    assert client.task_results(worker, [compiled(first), compiled(second)]) == [True, True]
    logs = cluster.master.logs()
    for champion in (first, second):
        assert logs.count(f"champion {champion.id} attempt 1: ready from") == 1
        assert logs.count(f"champion {champion.id} attempt 1: already applied") == 1


def test_task_results_refuses_a_malformed_list_whole_and_a_wrong_match_alone(pending_tasks):
    [first, second], match, worker, client = pending_tasks

    with pytest.raises(xmlrpc.client.Fault) as malformed:
        client.task_results(worker, [compiled(first), dict(compiled(second), kind="build")])
    assert "results[1].kind: expected one of compile, match" in malformed.value.faultString
    with pytest.raises(xmlrpc.client.Fault) as not_a_list:
        client.task_results(worker, compiled(first))
    assert "results: expected an array" in not_a_list.value.faultString
    first.refresh_from_db()
    assert first.status == Champion.Status.PENDING

    wrong_players = {"kind": "match", "id": match.id, "attempt": 1,
                     "result": dict(match_result(match), players=[])}
    outcomes = client.task_results(worker, [wrong_players, compiled(first)])

    assert outcomes[1] is True
    assert "not the match's" in outcomes[0]
    first.refresh_from_db()
    assert first.status == Champion.Status.READY
    assert_untouched(match)
