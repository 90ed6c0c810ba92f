"""The platform's reasons on French pages: a match, a champion and a tournament failed or
waiting for each kind of reason the platform writes show it in French, with no English
wording of the platform's left; only what the reason quotes (a worker's error, a
program's last line) stays as it was written."""

import re

import pytest
from django.db import transaction
from django.urls import reverse

from stechec.common.tasks import Kind
from stechec.contest import operations, reasons, tournaments, transitions
from stechec.contest.models import Champion, Match, MatchPlayer
from tests.www.helpers import ready_champion, text
from tests.www.test_translation import FRENCH, SEGFAULT

pytestmark = pytest.mark.django_db

NBSP = "\xa0"
# The master's reasons for giving an attempt back, as the master node builds them, and
# the French the page shows for each.
MASTER = [
    (reasons.reason("lost_before_sent"), "son worker a été perdu avant qu’elle lui soit envoyée"),
    (reasons.reason("refused", worker="w1:8068", error="bad task"),
     f"refusé par le worker w1:8068{NBSP}: bad task"),
    (reasons.reason("unreachable", worker="w1:8068", error="Connection refused"),
     f"worker w1:8068 injoignable{NBSP}: Connection refused"),
    (reasons.reason("timed_out", worker="w1:8068"), "le worker w1:8068 ne répond plus"),
    (reasons.reason("worker_restarted", worker="w1:8068"), "le worker w1:8068 a redémarré"),
    (reasons.reason("deadline"), "aucun résultat avant l’échéance"),
]
# Sentences of the worker (stechec/worker_node: matches.py, service.py), with the game
# server's verdict its result carries, and their French.
WORKER = [
    ("the game server killed by signal SIGSEGV: boom at line 3", SEGFAULT,
     f"le serveur du jeu a échoué (planté{NBSP}: erreur de segmentation (SIGSEGV)){NBSP}: "
     "boom at line 3"),
    ("the game server exited with status 2", dict(SEGFAULT, ended="exit", exit_status=2),
     "le serveur du jeu a échoué (terminé avec le code de sortie 2)"),
    ("the game server did not open its socket within 5 s", None,
     "le serveur du jeu n’a pas ouvert sa socket en 5 s"),
    ("champion 7: cannot unpack its compiled archive (No such file or directory)", None,
     f"champion 7{NBSP}: impossible de décompresser son archive compilée (No such file or "
     "directory)"),
    ("the game server reported no score for player(s) 4, 5", None,
     "le serveur du jeu n’a donné aucun score pour le(s) joueur(s) 4, 5"),
    ("unreadable server output: line 1: not a score", None,
     f"sortie du serveur illisible{NBSP}: line 1: not a score"),
    ("the game did not finish: the game server was killed at the wall-clock limit (30 s)",
     dict(SEGFAULT, ended="limit", signal="", limit="wall", limit_value="30 s"),
     f"la partie ne s’est pas terminée (serveur du jeu{NBSP}: arrêté{NBSP}: a tourné plus de "
     "30 s (temps réel))"),
    ("worker w1:8068 failed: OSError: disk full", None,
     f"le worker w1:8068 a échoué{NBSP}: OSError: disk full"),
]
GAVE_UP = f"abandonné après 1 tentatives{NBSP}; la dernière{NBSP}: "


def english_wording():
    """The platform's own words in every template: each fixed piece of a few words."""
    return {piece.strip(" :;()") for template in reasons.TEMPLATES.values()
            for piece in re.split(r"%\(\w+\)s", template) if len(piece.split()) >= 3}


def assert_french_only(page, french, stored):
    assert french in page
    assert stored not in page
    assert [words for words in english_wording() if words in page] == []


@pytest.fixture
def match(alice, bob):
    match = Match.launch([ready_champion(alice, "mine"), ready_champion(bob, "theirs")],
                         author=alice)
    Match.objects.filter(pk=match.pk).update(status=Match.Status.PENDING, attempts=1)
    return match


def page_of(client, match):
    match.refresh_from_db()
    return text(client.get(reverse("match-detail", args=[match.pk]), **FRENCH))


@pytest.mark.parametrize("reason, french", MASTER, ids=[r["code"] for r, _ in MASTER])
def test_a_match_the_master_gave_up_on(client, staff, match, reason, french):
    assert transitions.give_back([(Kind.MATCH, match.pk, 1)], reason, max_tries=1,
                                 first_delay=0) == [True]
    client.force_login(staff)
    assert_french_only(page_of(client, match), GAVE_UP + french, match.failure_reason)
    assert match.failure_reason == f"gave up after 1 attempts; last: {reasons.text(reason)}"


@pytest.mark.parametrize("sentence, verdict, french", WORKER, ids=[w[0][:30] for w in WORKER])
def test_a_match_failed_by_the_worker_s_reason(client, staff, match, sentence, verdict,
                                               french):
    result = {"status": "failed", "reason": sentence, "retryable": True, "server_exit": 1,
              "server_log": b"", "players": []}
    if verdict:
        result["server_verdict"] = verdict
    with transaction.atomic():
        assert transitions.apply_match_result(match.pk, 1, result, max_tries=1)
    client.force_login(staff)
    assert_french_only(page_of(client, match), GAVE_UP + french, match.failure_reason)
    # What an older worker sent failed at once, not retried: shown in French too.
    rerun(match)
    with transaction.atomic():
        assert transitions.apply_match_result(match.pk, 2, dict(result, retryable=False),
                                              max_tries=1)
    assert_french_only(page_of(client, match), french, sentence)


def rerun(match):
    transitions.rerun_matches(Match.objects.filter(pk=match.pk))
    Match.objects.filter(pk=match.pk).update(status=Match.Status.PENDING, attempts=2)


def test_a_retried_match_says_why_in_french(client, staff, match):
    """Back in the queue: the reason of its last attempt, with no giving up."""
    transitions.give_back([(Kind.MATCH, match.pk, 1)], reasons.reason("deadline"),
                          max_tries=3, first_delay=0)
    client.force_login(staff)
    page = page_of(client, match)
    assert_french_only(page, "aucun résultat avant l’échéance", match.failure_reason)
    assert "abandonné" not in page
    Match.objects.filter(pk=match.pk).update(status=Match.Status.PENDING, attempts=2)
    assert transitions.reset_pending() == (0, 1)
    assert_french_only(page_of(client, match), "le nœud maître a redémarré",
                       "master node restarted")


def test_a_match_refused_for_want_of_room_and_one_cancelled(client, staff, match):
    assert transitions.undo_attempt(Kind.MATCH, match.pk, 1,
                                    reasons.reason("no_room", worker="w1:8068"))
    client.force_login(staff)
    assert_french_only(page_of(client, match), "refusé par le worker w1:8068 (pas de place)",
                       match.failure_reason)
    stored = operations.cancel_match("orga", match.pk)
    page = page_of(client, match)
    assert_french_only(page, "annulé par orga le ", stored)
    assert re.search(r"annulé par orga le \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page)


def test_a_worker_s_own_sentence_and_an_older_row_stay_as_written(client, staff, match):
    """Only the platform's templates are translated: any other text shows as stored."""
    result = {"status": "failed", "reason": "something only this worker says",
              "retryable": False, "server_exit": 1, "server_log": b"", "players": []}
    with transaction.atomic():
        transitions.apply_match_result(match.pk, 1, result, max_tries=1)
    client.force_login(staff)
    assert "something only this worker says" in page_of(client, match)
    Match.objects.filter(pk=match.pk).update(failure_reason="worker lost", failure_detail=None)
    assert "worker lost" in page_of(client, match)
    # A detail that is no longer its text's (staff edited the text in the admin).
    Match.objects.filter(pk=match.pk).update(
        failure_reason="edited by staff", failure_detail=reasons.reason("deadline"))
    assert "edited by staff" in page_of(client, match)


@pytest.mark.parametrize("reason, french", [
    ("the sources are missing from the shared directory",
     "les sources manquent dans le répertoire partagé"),
    (reasons.reason("timed_out", worker="w2:8068"), "le worker w2:8068 ne répond plus"),
], ids=["worker", "master"])
def test_a_champion_the_platform_could_not_compile(client, staff, alice, reason, french):
    champion = Champion.objects.create(name="mine", author=alice, status="pending",
                                       attempts=1)
    if isinstance(reason, str):
        with transaction.atomic():
            transitions.apply_results([(Kind.COMPILE, champion.pk, 1, {
                "status": "failed", "language": "", "log": b"", "reason": reason})],
                max_tries=1)
    else:
        transitions.give_back([(Kind.COMPILE, champion.pk, 1)], reason, max_tries=1,
                              first_delay=0)
    champion.refresh_from_db()
    assert champion.status == Champion.Status.FAILED
    client.force_login(staff)
    page = text(client.get(f"/champions/{champion.pk}/", **FRENCH))
    assert_french_only(page, GAVE_UP + french, champion.failure_reason)


def test_a_tournament_waiting_for_a_failed_match(client, alice, bob):
    champions = [ready_champion(author, name) for author, name in
                 ((alice, "a1"), (alice, "a2"), (bob, "b1"), (bob, "b2"))]
    tournament = tournaments.create("swiss", "swiss", [c.pk for c in champions], [],
                                    nb_players=2, rounds=2)
    tournaments.launch(tournament)
    failed, done = tournament.matches.order_by("id")
    Match.objects.filter(pk=failed.pk).update(status=Match.Status.FAILED,
                                              fault=Match.Fault.PLATFORM)
    Match.objects.filter(pk=done.pk).update(status=Match.Status.DONE)
    MatchPlayer.objects.filter(match=done).update(score=1)
    with transaction.atomic():
        assert tournaments.advance(tournament.pk) == 0
    tournament.refresh_from_db()
    assert tournament.waiting_reason == \
        f"match {failed.pk} failed: rerun it before the next round"
    client.force_login(alice)
    page = text(client.get(reverse("tournament-detail", args=[tournament.pk]), **FRENCH))
    assert_french_only(page, f"le match {failed.pk} a échoué{NBSP}: relancez-le avant la "
                             "ronde suivante", tournament.waiting_reason)
    english = text(client.get(reverse("tournament-detail", args=[tournament.pk])))
    assert tournament.waiting_reason in english
