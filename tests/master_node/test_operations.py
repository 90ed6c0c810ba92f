"""Staff's operations (stechec.contest.operations) obeyed by a real master with simulated
workers: pause and resume through a restart, drain, bulk requeue with a filter, cancel.

(A running match cancelled on a real worker, its programs killed: tests/worker_node/
test_operations.py.)
"""

import pytest

from stechec.common.rpc import RPCClient
from stechec.contest import operations
from stechec.contest.models import Champion, Match, OperatorAction
from tests.conftest import wait_for
from tests.master_node.conftest import SECRET, all_finished, new_champions, new_matches

PAUSED_PASS = "dispatching paused: no task placed"


def _wait_paused_passes(master, count=2):
    """Wait until the dispatcher has passed over the queue `count` more times, paused:
    whatever was committed before is what it saw and left."""
    seen = master.logs().count(PAUSED_PASS)
    wait_for(lambda: master.logs().count(PAUSED_PASS) >= seen + count,
             "the dispatcher to pass over the queue, paused")


def _status(master):
    client = RPCClient(master.url, SECRET, timeout=30)
    try:
        return client.status()
    finally:
        client.close()


def _statuses(model, objects):
    return sorted(model.objects.filter(pk__in=[o.pk for o in objects])
                  .values_list("status", flat=True))


def test_pause_holds_new_tasks_through_a_restart_until_resumed(cluster, player, tmp_path):
    master = cluster.start_master()
    release = tmp_path / "release"
    workers = cluster.start_workers("w", hold_until=release)
    [running] = new_matches(player, 1)
    wait_for(lambda: workers.events("received"), "the first match to run")

    operations.pause("staff")
    wait_for(lambda: "dispatching paused by staff" in master.logs(), "the master to pause")
    matches = new_matches(player, 2)
    champions = new_champions(player, 1)
    _wait_paused_passes(master)
    assert _statuses(Match, matches) == ["new", "new"]
    assert _statuses(Champion, champions) == ["new"]
    assert _status(master)["paused"] is True
    # The match running when it paused finishes, its result applied.
    release.touch()
    wait_for(lambda: all_finished(Match, [running.id], "done"), "the running match's result")

    master.kill()
    master.start()
    assert "dispatching paused by staff" in master.log.read_text()
    _wait_paused_passes(master)
    assert _statuses(Match, matches) == ["new", "new"]
    assert _statuses(Champion, champions) == ["new"]
    assert [e["id"] for e in workers.events("received")] == [running.id]

    operations.resume("staff")
    wait_for(lambda: all_finished(Match, [m.id for m in matches], "done")
             and all_finished(Champion, [c.id for c in champions], "ready"),
             "the tasks to be played once resumed")
    assert "dispatching resumed by staff" in master.logs()
    assert _status(master)["paused"] is False
    assert list(OperatorAction.objects.values_list("action", "actor")) == [
        ("resume", "staff"), ("pause", "staff")]


def test_a_drained_worker_gets_nothing_new_and_finishes_what_it_runs(cluster, player,
                                                                       tmp_path):
    master = cluster.start_master()
    release = tmp_path / "release"
    # Room for more after its held match, and less loaded then than the second worker
    # once that one runs a match: undrained, it would get some of the new ones.
    first = cluster.start_workers("first", slots=8, hold_until=release)
    [held] = new_matches(player, 1)
    wait_for(lambda: first.events("received"), "the first match to run on the first worker")
    [name] = first.names

    operations.drain("staff", name)
    wait_for(lambda: f"worker {name} drained by staff" in master.logs(), "the drain")
    second = cluster.start_workers("second")
    matches = new_matches(player, 3)
    wait_for(lambda: all_finished(Match, [m.id for m in matches], "done"),
             "the new matches, on the other worker")
    assert [e["id"] for e in first.events("received")] == [held.id]
    assert sorted(e["id"] for e in second.events("received")) == sorted(m.id for m in matches)
    [shown] = [w for w in _status(master)["workers"] if f"127.0.0.1:{w['port']}" == name]
    assert shown["draining"] is True
    assert [r["id"] for r in shown["running"]] == [held.id]
    assert Match.objects.get(pk=held.pk).status == "pending"

    # What it ran finishes; then it runs nothing: safe to stop.
    release.touch()
    wait_for(lambda: all_finished(Match, [held.id], "done"), "the drained worker's match")
    wait_for(lambda: not [w for w in _status(master)["workers"]
                          if f"127.0.0.1:{w['port']}" == name][0]["running"],
             "the drained worker to be idle")

    operations.undrain("staff", name)
    wait_for(lambda: f"worker {name} undrained by staff" in master.logs(), "the undrain")
    second.kill()
    again = new_matches(player, 1)
    wait_for(lambda: all_finished(Match, [m.id for m in again], "done"),
             "a match on the undrained worker")


def test_bulk_requeue_takes_the_failed_tasks_its_filter_selects(cluster, player):
    master = cluster.start_master()
    cluster.start_workers("w")
    matches = new_matches(player, 3)
    champions = new_champions(player, 2)
    # Failed as a lost worker leaves them, before any master claims them.
    Match.objects.filter(pk__in=[m.pk for m in matches[:2]]).update(
        status="failed", fault="platform", failure_reason="worker 10.0.0.9:1 timed out")
    Match.objects.filter(pk=matches[2].pk).update(
        status="failed", fault="platform", failure_reason="the game server crashed")
    Champion.objects.filter(pk=champions[0].pk).update(
        status="failed", failure_reason="worker 10.0.0.9:1 timed out")
    Champion.objects.filter(pk=champions[1].pk).update(
        status="failed", failure_reason="disk full")

    assert operations.requeue_matches("staff", reason="TIMED OUT") == 2
    assert operations.requeue_champions("staff", reason="timed out") == 1
    wait_for(lambda: all_finished(Match, [m.id for m in matches[:2]], "done")
             and all_finished(Champion, [champions[0].id], "ready"),
             "the requeued tasks to be played")
    assert Match.objects.get(pk=matches[2].pk).status == "failed"
    assert Champion.objects.get(pk=champions[1].pk).status == "failed"
    requeued = OperatorAction.objects.get(action="requeue_matches")
    assert (requeued.actor, requeued.filter, requeued.outcome) == (
        "staff", {"reason": "TIMED OUT"}, "2 matches requeued")
    assert master.process.poll() is None


def test_cancel_a_queued_match_and_a_running_one(cluster, player):
    # No deadline comes to cancel the held match instead.
    master = cluster.start_master(match_deadline_secs=3600.0)
    operations.pause("staff")
    wait_for(lambda: "dispatching paused by staff" in master.logs(), "the master to pause")
    [queued] = new_matches(player, 1)
    reason = operations.cancel_match("alice", queued.id)
    assert reason.startswith("cancelled by alice at ")
    queued.refresh_from_db()
    assert (queued.status, queued.fault, queued.failure_reason) == ("failed", "cancelled",
                                                                     reason)
    with pytest.raises(ValueError, match=f"match {queued.id}: neither waiting nor running"):
        operations.cancel_match("alice", queued.id)

    workers = cluster.start_workers("w", hold=True)
    [running] = new_matches(player, 1)
    operations.resume("staff")
    wait_for(lambda: workers.events("received"), "the match to run")
    operations.cancel_match("alice", running.id)
    wait_for(lambda: workers.events("cancelled"), "the worker to be told")
    [cancelled] = workers.events("cancelled")
    assert (cancelled["id"], cancelled["attempt"]) == (running.id, 1)
    assert f"match {running.id} attempt 1: cancelled by staff; stopping it on" in master.logs()
    running.refresh_from_db()
    assert (running.status, running.fault) == ("failed", "cancelled")
    assert running.failure_reason.startswith("cancelled by alice at ")
    # The worker keeps serving: its slots are free again for the next match.
    [after] = new_matches(player, 1)
    wait_for(lambda: [e for e in workers.events("received") if e["id"] == after.id],
             "the next match on the same worker")
    assert [a.target for a in OperatorAction.objects.filter(action="cancel")] == [
        str(running.id), str(queued.id)]
