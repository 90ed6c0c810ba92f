"""A match is a champion's fault or the platform's: the platform's never counts."""

import pytest
from django.db import transaction
from django.urls import reverse

from stechec.common.tasks import Kind
from stechec.contest import transitions
from stechec.contest.models import Champion, Match
from tests.www.helpers import ready_champion, text
from tests.www.test_matches import SEGFAULT

pytestmark = pytest.mark.django_db

FINISHED = dict(SEGFAULT, ended="exit", signal="", exit_status=0)


def running(alice, bob):
    match = Match.launch([ready_champion(alice, "mine"), ready_champion(bob, "theirs")],
                         author=alice)
    Match.objects.filter(pk=match.pk).update(status=Match.Status.PENDING, attempts=1)
    return match


def result(match, status="done", verdicts=(FINISHED, FINISHED), nb_timeout=0, retryable=False):
    return {"status": status, "reason": "" if status == "done" else "the game server crashed",
            "retryable": retryable, "players": [
                {"matchplayer_id": p.pk, "score": None if status == "failed" else seat,
                 "nb_timeout": nb_timeout, "exit_status": 0, "verdict": verdict}
                for seat, (p, verdict) in enumerate(zip(match.players.order_by("id"), verdicts,
                                                         strict=True))]}


def apply(match, attempt, outcome):
    with transaction.atomic():
        return transitions.apply_match_result(match.pk, attempt, outcome, max_tries=2)


def counted(match):
    """Whether the match moved its champions' ratings."""
    match.refresh_from_db()
    rated = set(Champion.objects.filter(matches=match).values_list("rated_games", flat=True))
    assert rated in ({0}, {1})
    assert (match.rated_seq is not None) == (rated == {1})
    return match.rated_seq is not None


@pytest.mark.parametrize("verdicts, nb_timeout, fault", [
    ((FINISHED, FINISHED), 0, Match.Fault.NONE),
    ((FINISHED, SEGFAULT), 0, Match.Fault.CHAMPION),
    ((dict(FINISHED, exit_status=1), FINISHED), 0, Match.Fault.CHAMPION),
    ((FINISHED, FINISHED), 3, Match.Fault.CHAMPION),
])
def test_a_done_match_counts_and_names_a_champion_s_fault(alice, bob, verdicts, nb_timeout,
                                                          fault):
    match = running(alice, bob)
    assert apply(match, 1, result(match, verdicts=verdicts, nb_timeout=nb_timeout)) is True
    assert counted(match)
    assert (match.status, match.fault) == (Match.Status.DONE, fault)


def test_a_platform_failure_is_retried_then_fails_counting_nowhere(alice, bob):
    match = running(alice, bob)
    failure = result(match, "failed", retryable=True)
    assert apply(match, 1, failure) is True
    match.refresh_from_db()
    assert (match.status, match.fault) == (Match.Status.NEW, Match.Fault.NONE)
    Match.objects.filter(pk=match.pk).update(status=Match.Status.PENDING, attempts=2)
    assert apply(match, 2, failure) is True
    assert not counted(match)
    assert (match.status, match.fault) == (Match.Status.FAILED, Match.Fault.PLATFORM)
    assert match.failure_reason.startswith("gave up after 2 attempts")


def test_a_lost_worker_s_match_fails_as_the_platform_s_fault(alice, bob):
    match = running(alice, bob)
    Match.objects.filter(pk=match.pk).update(attempts=2)
    assert transitions.give_back([(Kind.MATCH, match.pk, 2)], "worker lost",
                                 max_tries=2, first_delay=0) == [True]
    assert not counted(match)
    assert (match.status, match.fault) == (Match.Status.FAILED, Match.Fault.PLATFORM)


def test_a_failure_an_older_worker_did_not_retry_is_the_platform_s(alice, bob):
    match = running(alice, bob)
    assert apply(match, 1, result(match, "failed", retryable=False)) is True
    assert not counted(match)
    assert (match.status, match.fault) == (Match.Status.FAILED, Match.Fault.PLATFORM)


def test_a_rerun_clears_the_fault(alice, bob):
    match = running(alice, bob)
    apply(match, 1, result(match, "failed"))
    assert transitions.rerun_matches(Match.objects.filter(pk=match.pk)) == 1
    match.refresh_from_db()
    assert (match.status, match.fault) == (Match.Status.NEW, Match.Fault.NONE)


@pytest.mark.parametrize("fault, words", [
    (Match.Fault.PLATFORM, "the platform's: it counts nowhere"),
    (Match.Fault.CHAMPION, "a champion's: it counts"),
])
def test_the_match_page_says_whose_fault_it_was(alice_client, alice, bob, fault, words):
    match = running(alice, bob)
    status = Match.Status.FAILED if fault == Match.Fault.PLATFORM else Match.Status.DONE
    Match.objects.filter(pk=match.pk).update(status=status, fault=fault)
    page = text(alice_client.get(reverse("match-detail", args=[match.pk])))
    assert f'<dd id="match-fault">{words}' in page


OUT_OF_MEMORY = dict(SEGFAULT, ended="limit", signal="SIGKILL", limit="memory",
                     limit_value="1 GiB")
TOO_SLOW = dict(OUT_OF_MEMORY, limit="cpu", limit_value="10 s")


def finished(alice, bob, verdicts, nb_timeout=0):
    match = running(alice, bob)
    apply(match, 1, result(match, verdicts=verdicts, nb_timeout=nb_timeout))
    return match


def listed(client, query):
    return [m.pk for m in client.get(reverse("match-list") + query).context["page"].items]


def test_the_match_list_filters_by_verdict(client, alice, bob, staff):
    fine = finished(alice, bob, (FINISHED, FINISHED))
    alice_crashed = finished(alice, bob, (SEGFAULT, FINISHED))
    bob_crashed = finished(alice, bob, (FINISHED, dict(FINISHED, exit_status=2)))
    memory = finished(alice, bob, (OUT_OF_MEMORY, FINISHED))
    slow = finished(alice, bob, (FINISHED, TOO_SLOW))
    timeout = finished(alice, bob, (FINISHED, FINISHED), nb_timeout=3)
    platform = running(alice, bob)
    apply(platform, 1, result(platform, "failed"))

    client.force_login(staff)
    assert listed(client, "") == [platform.pk, timeout.pk, slow.pk, memory.pk, bob_crashed.pk,
                                  alice_crashed.pk, fine.pk]
    assert listed(client, "?verdict=crashed") == [bob_crashed.pk, alice_crashed.pk]
    assert listed(client, "?verdict=memory") == [memory.pk]
    assert listed(client, "?verdict=time") == [slow.pk]
    assert listed(client, "?verdict=timeout") == [timeout.pk]
    assert listed(client, "?verdict=platform") == [platform.pk]
    # A player reads how her own programs ended only.
    client.force_login(alice)
    assert listed(client, "?verdict=crashed") == [alice_crashed.pk]
    assert listed(client, "?verdict=time") == []
    assert listed(client, "?verdict=timeout") == [timeout.pk]
    response = client.get(reverse("match-list") + "?verdict=exploded")
    assert response.status_code == 400
    assert "unknown verdict 'exploded'" in response.content.decode()


def test_staff_read_failure_rates_per_language_and_worker(client, alice, bob, staff):
    finished(alice, bob, (SEGFAULT, FINISHED))
    finished(alice, bob, (FINISHED, FINISHED))
    platform = running(alice, bob)
    apply(platform, 1, result(platform, "failed"))
    Match.objects.update(worker="w1:8001")
    Match.objects.filter(pk=platform.pk).update(worker="w2:8002")
    Champion.objects.update(language="python")

    client.force_login(staff)
    page = text(client.get(reverse("cluster-status")))
    assert "<tr><td>python</td><td>4</td><td>1 (25.0%)</td></tr>" in page
    assert "<tr><td>w1:8001</td><td>2</td><td>0 (0.0%)</td><td>1 (50.0%)</td></tr>" in page
    assert "<tr><td>w2:8002</td><td>1</td><td>1 (100.0%)</td><td>0 (0.0%)</td></tr>" in page
    client.force_login(alice)
    assert "failures-by-worker" not in text(client.get(reverse("cluster-status")))


@pytest.mark.parametrize("verdict, nb_timeout, words", [
    (dict(FINISHED, turn_ms=1000), 3, "took longer than 1000 ms to answer 3 times"),
    (dict(FINISHED, turn_ms=250), 1, "took longer than 250 ms to answer once"),
    (FINISHED, 2, "timed out 2 times"),
])
def test_the_match_page_says_what_a_timeout_was(alice_client, alice, bob, verdict, nb_timeout,
                                                 words):
    match = finished(alice, bob, (verdict, FINISHED), nb_timeout=nb_timeout)
    page = text(alice_client.get(reverse("match-detail", args=[match.pk])))
    assert f'<span class="status status-failed">{words}</span>' in page


@pytest.mark.parametrize("verdict, words", [
    (dict(SEGFAULT, turn=5), "crashed: segmentation fault (SIGSEGV) at turn 5"),
    # A game server that does not say when (stechec2's): the words stay without a turn.
    (SEGFAULT, "crashed: segmentation fault (SIGSEGV)<br>"),
])
def test_the_match_page_says_at_which_turn_a_champion_crashed(alice_client, alice, bob,
                                                              verdict, words):
    match = finished(alice, bob, (verdict, FINISHED))
    page = text(alice_client.get(reverse("match-detail", args=[match.pk])))
    assert f'<td class="verdict">{words}' in page
