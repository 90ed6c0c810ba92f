"""Staff's operations page and the `stechec-manage` operations: each action done, recorded
(who, when) and listed; refused to players; bad input named. (The master obeying them:
tests/master_node/test_operations.py and tests/worker_node/test_operations.py.)"""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from stechec.contest import operations
from stechec.contest.models import Champion, Match, OperatorAction, Tournament
from tests.www.helpers import STATUS, ready_champion, text

pytestmark = pytest.mark.django_db

URL = reverse("operations")


@pytest.fixture
def staff_client(client, staff, fake_master):
    fake_master(STATUS)
    client.force_login(staff)
    return client


def _post(client, **data):
    response = client.post(URL, data, follow=True)
    assert response.status_code == 200
    return text(response)


def _failed_match(author, reason, tournament=None, worker=""):
    champion = ready_champion(author)
    match = Match.launch([champion, champion], author=author, tournament=tournament)
    Match.objects.filter(pk=match.pk).update(status="failed", fault="platform",
                                             failure_reason=reason, worker=worker)
    return match


def test_players_may_not_operate(alice_client):
    assert alice_client.get(URL).status_code == 403
    assert alice_client.post(URL, {"action": "pause"}).status_code == 403
    assert not OperatorAction.objects.exists()
    assert "operations-link" not in text(alice_client.get(reverse("cluster-status")))


def test_pause_and_resume_are_recorded_and_shown(staff_client):
    assert "operations-link" in text(staff_client.get(reverse("cluster-status")))
    page = _post(staff_client, action="pause")
    assert "Dispatching paused" in page and "Resume dispatching" in page
    assert "by orga at" in page
    assert operations.state().paused
    page = _post(staff_client, action="resume")
    assert "Pause dispatching" in page
    assert not operations.state().paused
    assert list(OperatorAction.objects.values_list("action", "actor")) == [
        ("resume", "orga"), ("pause", "orga")]
    assert "resume dispatching" in page and "pause dispatching" in page


def test_drain_and_undrain_a_worker(staff_client):
    page = _post(staff_client, action="drain", worker="worker-b:8068")
    assert "Worker worker-b:8068 drained" in page
    # worker-b runs two tasks: draining; worker-a takes tasks.
    assert "draining: finishing its tasks" in page and "takes tasks" in page
    assert operations.state().drained == {"worker-b:8068"}
    page = _post(staff_client, action="drain", worker="worker-a:8068")
    assert "drained, idle: safe to stop" in page
    _post(staff_client, action="undrain", worker="worker-b:8068")
    assert operations.state().drained == {"worker-a:8068"}
    page = _post(staff_client, action="drain", worker="no port")
    assert "'no port' is not a worker's host:port." in page
    assert OperatorAction.objects.count() == 3


def test_cancel_a_match(staff_client, alice):
    champion = ready_champion(alice)
    match = Match.launch([champion, champion], author=alice)
    Match.objects.filter(pk=match.pk).update(status="pending", attempts=1, worker="worker-b:8068")
    page = text(staff_client.get(URL))
    assert "worker-b:8068" in page and reverse("match-detail", args=[match.pk]) in page

    page = _post(staff_client, action="cancel", match=str(match.pk))
    assert f"Match {match.pk} cancelled: the master stops it." in page
    match.refresh_from_db()
    assert (match.status, match.fault) == ("failed", "cancelled")
    assert match.failure_reason.startswith("cancelled by orga at ")
    [action] = OperatorAction.objects.all()
    assert (action.action, action.target, action.outcome) == ("cancel", str(match.pk),
                                                              match.failure_reason)
    page = text(staff_client.get(reverse("match-detail", args=[match.pk])))
    assert match.failure_reason in page
    assert "no one's: staff cancelled it, and it counts nowhere" in page

    page = _post(staff_client, action="cancel", match=str(match.pk))
    assert f"Match {match.pk} is neither waiting nor running" in page
    for bad in ("twelve", "²", "9" * 30):
        page = _post(staff_client, action="cancel", match=bad)
        assert f"{bad!r} is not a match number." in page
    assert OperatorAction.objects.count() == 1


def test_requeue_with_a_filter(staff_client, alice):
    cup = Tournament.objects.create(name="cup")
    in_cup = _failed_match(alice, "worker lost", tournament=cup)
    outside = _failed_match(alice, "worker lost")
    failed = Champion.objects.create(name="c", author=alice, status="failed",
                                     failure_reason="disk full", worker="w:1")

    page = _post(staff_client, action="requeue", what="matches", tournament=cup.pk,
                 reason="LOST")
    assert "1 task(s) back in the queue." in page
    assert Match.objects.get(pk=in_cup.pk).status == "new"
    assert Match.objects.get(pk=outside.pk).status == "failed"
    page = _post(staff_client, action="requeue", what="champions", tournament=cup.pk)
    assert "Compilations belong to no tournament." in page
    page = _post(staff_client, action="requeue", what="champions", worker="w")
    assert "Not a worker&#x27;s host:port." in page or "Not a worker's host:port." in page
    assert Champion.objects.get(pk=failed.pk).status == "failed"
    page = _post(staff_client, action="requeue", what="champions", worker="w:1")
    assert Champion.objects.get(pk=failed.pk).status == "new"
    assert list(OperatorAction.objects.values_list("action", "filter", "outcome")) == [
        ("requeue_champions", {"worker": "w:1"}, "1 champions requeued"),
        ("requeue_matches", {"tournament": cup.pk, "reason": "LOST"}, "1 matches requeued")]


def test_an_unknown_action_is_named(staff_client):
    assert "Unknown action 'explode'." in _post(staff_client, action="explode")
    assert not OperatorAction.objects.exists()


def test_the_admin_lists_actions_read_only(client, staff):
    operations.pause("orga")
    client.force_login(staff)
    listing = client.get(reverse("admin:stechec_operatoraction_changelist"))
    assert listing.status_code == 200 and "orga" in text(listing)
    [action] = OperatorAction.objects.all()
    assert client.post(reverse("admin:stechec_operatoraction_delete", args=[action.pk]),
                       {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:stechec_operatoraction_add")).status_code == 403
    assert OperatorAction.objects.count() == 1


def test_the_commands(alice, capsys):
    call_command("pause", "--as", "root on the host")
    call_command("drain", "10.0.0.2:8068")
    assert operations.state() == operations.State(
        True, frozenset({"10.0.0.2:8068"}), OperatorAction.objects.first().pk)
    call_command("undrain", "10.0.0.2:8068")
    call_command("resume")
    assert not operations.state().paused and not operations.state().drained
    actors = list(OperatorAction.objects.order_by("id").values_list("actor", flat=True))
    assert actors[0] == "root on the host"
    assert all(actor.endswith("(stechec-manage)") for actor in actors[1:])

    cancelled = _failed_match(alice, "")
    Match.objects.filter(pk=cancelled.pk).update(status="new")
    call_command("cancel", str(cancelled.pk))
    assert Match.objects.get(pk=cancelled.pk).fault == "cancelled"
    old = _failed_match(alice, "worker 10.0.0.2:8068 timed out", worker="10.0.0.2:8068")
    recent = _failed_match(alice, "worker 10.0.0.2:8068 timed out", worker="10.0.0.2:8068")
    Match.objects.filter(pk=old.pk).update(ts=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
    call_command("requeue", "--failed-matches", "--worker", "10.0.0.2:8068",
                 "--since", "2020-01-01T00:00")
    assert Match.objects.get(pk=recent.pk).status == "new"
    assert Match.objects.get(pk=old.pk).status == "failed"
    # A cancelled match stays cancelled: staff ended it on purpose.
    assert Match.objects.get(pk=cancelled.pk).status == "failed"
    out = capsys.readouterr().out
    assert "dispatching paused" in out and "1 matches requeued" in out
    assert f"match {cancelled.pk} cancelled by" in out

    for args, words in [(["drain", "nowhere"], "worker 'nowhere': not host:port"),
                        (["cancel", str(cancelled.pk)], "neither waiting nor running"),
                        (["requeue", "--failed-champions", "--tournament", "1"],
                         "tournament: not a filter here"),
                        (["requeue", "--failed-matches", "--tournament", str(2**70)],
                         "not a tournament's number"),
                        (["cancel", str(2**70)], "not a match's number")]:
        with pytest.raises(CommandError, match=words):
            call_command(*args)


def test_the_commands_in_the_site_s_language(alice, capsys, settings):
    """Their lines, the reason a cancelled match shows and their refusals, in French."""
    settings.LANGUAGE_CODE = "fr"
    match = _failed_match(alice, "")
    Match.objects.filter(pk=match.pk).update(status="new")
    call_command("pause", "--as", "orga")
    call_command("cancel", "--as", "orga", str(match.pk))
    out = capsys.readouterr().out
    assert out.startswith(f"distribution en pause\nmatch {match.pk} annulé par orga le ")
    assert Match.objects.get(pk=match.pk).failure_reason.startswith("cancelled by orga at ")
    with pytest.raises(CommandError, match=f"match {match.pk}\xa0: ni en attente ni en cours"):
        call_command("cancel", str(match.pk))
    with pytest.raises(CommandError, match="worker 'nowhere'\xa0: pas hôte:port"):
        call_command("drain", "nowhere")
