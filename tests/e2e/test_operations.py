"""Staff operate the local cluster (site, master-node, two worker-nodes) through the
operations page and `stechec-manage`: pause and resume, drain and undrain a worker, requeue
failed matches with a filter, cancel a queued match; each recorded with who did it."""

import os

import pytest

from stechec.common import rpc
from stechec.contest.models import Match, OperatorAction
from tests.e2e.client import PlayerSession, status_of
from tests.e2e.conftest import SAMPLES, password_of, running_cluster, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PAGE = "/status/operations/"
STAFF = "orga"
CREATE_STAFF = (f"from django.contrib.auth.models import User; "
                f"User.objects.create_user({STAFF!r}, password={password_of(STAFF)!r}, "
                f"is_staff=True)")


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory):
    with running_cluster(django_db_blocker, tmp_path_factory.mktemp("cluster"),
                         slots=6) as local:
        local.manage("shell", "-c", CREATE_STAFF)
        yield local


def _session(cluster, username):
    session = PlayerSession(cluster.url)
    session.log_in(username, password_of(username))
    return session


def _master_status(cluster):
    client = rpc.RPCClient(cluster.master_url, cluster.secret, timeout=30)
    try:
        return client.status()
    finally:
        client.close()


def _operate(staff, **fields):
    response = staff.post(PAGE, fields)
    assert response.status == 200 and response.url.endswith(PAGE), response.body[:2000]
    return response.body


def _champion_ready(cluster, player, pk):
    wait_for(cluster, lambda: status_of(player.get(f"/champions/{pk}/").body,
                                        "champion-status") == "ready",
             f"champion {pk} to compile")


def _matches_done(cluster, ids):
    wait_for(cluster, lambda: Match.objects.filter(pk__in=ids, status="done").count()
             == len(ids), f"matches {ids} to be done", timeout=240)


def test_pause_drain_requeue_and_cancel_on_the_local_cluster(cluster):
    staff = _session(cluster, STAFF)
    alice, bob = _session(cluster, "alice"), _session(cluster, "bob")

    # Paused from the page: an upload waits, and compiles once resumed by the command.
    assert "Resume dispatching" in _operate(staff, action="pause")
    wait_for(cluster, lambda: _master_status(cluster)["paused"], "the master to pause")
    good = alice.upload("good", os.path.join(SAMPLES, "python-good"))
    assert status_of(alice.get(f"/champions/{good}/").body, "champion-status") == "new"
    cluster.manage("resume", "--as", STAFF)
    _champion_ready(cluster, alice, good)
    other = bob.upload("random", os.path.join(SAMPLES, "python-random"))
    _champion_ready(cluster, bob, other)

    # Drained by the command: the new matches all go to the other worker.
    drained, serving = sorted(f"{w['hostname']}:{w['port']}"
                              for w in _master_status(cluster)["workers"])
    cluster.manage("drain", drained, "--as", STAFF)
    wait_for(cluster, lambda: [w for w in _master_status(cluster)["workers"]
                               if w["draining"]], "the master to drain the worker")
    matches = [alice.launch_match(good, other) for _ in range(4)]
    _matches_done(cluster, matches)
    assert set(Match.objects.filter(pk__in=matches).values_list("worker", flat=True)) == {
        serving}
    assert "drained, idle: safe to stop" in staff.get(PAGE).body
    _operate(staff, action="undrain", worker=drained)

    # Failed as a lost worker leaves them; the requeue's filter takes one of the two.
    Match.objects.filter(pk=matches[0]).update(
        status="failed", fault="platform", failure_reason=f"worker {drained} timed out")
    Match.objects.filter(pk=matches[1]).update(
        status="failed", fault="platform", failure_reason="the game server crashed")
    assert "1 task(s) back in the queue." in _operate(
        staff, action="requeue", what="matches", reason="timed out")
    _matches_done(cluster, [matches[0]])
    assert Match.objects.get(pk=matches[1]).status == "failed"

    # A match cancelled while it waits never runs.
    _operate(staff, action="pause")
    wait_for(cluster, lambda: _master_status(cluster)["paused"], "the master to pause")
    queued = alice.launch_match(good, other)
    assert f"Match {queued} cancelled" in _operate(staff, action="cancel", match=str(queued))
    cluster.manage("resume", "--as", STAFF)
    wait_for(cluster, lambda: not _master_status(cluster)["paused"], "the master to resume")
    assert status_of(alice.get(f"/matches/{queued}/").body, "match-status") == "failed"
    assert Match.objects.get(pk=queued).attempts == 0

    assert list(OperatorAction.objects.order_by("id").values_list("action", "actor")) == [
        ("pause", STAFF), ("resume", STAFF), ("drain", STAFF), ("undrain", STAFF),
        ("requeue_matches", STAFF), ("pause", STAFF), ("cancel", STAFF), ("resume", STAFF)]
    page = staff.get(PAGE).body
    assert page.count(f"<td>{STAFF}</td>") == 8
