"""The reasons module on its own: its templates, their French, their parameters, and the
worker's sentences it recognises."""

import re

import pytest
from django.utils import translation

from stechec.contest import reasons
from stechec.worker_node import matches
from stechec.worker_node.sandbox import Outcome

# A value for each parameter name the templates use (the last reason of gave_up, a
# nested one); texts where the worker's sentences have them, recognise reading text.
SAMPLES = {"last": {"code": "deadline", "params": {}}, "tries": 3, "worker": "w1:8068", "error": "Connection refused", "actor": "orga",
           "time": "2026-05-01 18:30:05", "match": 12, "first": 4, "second": 9,
           "finished": 1, "wanted": 2, "champion": "7", "why": "No such file or directory",
           "secs": "5", "players": "4, 5", "how": "exited with status 2",
           "excerpt": "boom at line 3"}


def sample(code):
    return reasons.reason(code, **{name: SAMPLES[name] for name in reasons.parameters(code)})


@pytest.mark.parametrize("code", sorted(reasons.TEMPLATES))
def test_every_template_has_a_french_translation_with_its_parameters(code):
    template = reasons.TEMPLATES[code]
    with translation.override("fr"):
        french = translation.gettext(template)
    assert french != template
    assert sorted(re.findall(r"%\(\w+\)s", french)) == sorted(re.findall(r"%\(\w+\)s",
                                                                          template))


@pytest.mark.parametrize("code", sorted(reasons.TEMPLATES))
def test_parameters_interpolate_in_english_and_in_french(code):
    detail = sample(code)
    english = reasons.text(detail)
    with translation.override("fr"):
        french = reasons.shown(english, detail)
    assert "%(" not in english and "%(" not in french
    assert english != french
    for value in detail["params"].values():
        if not isinstance(value, dict):
            assert str(value) in english and str(value) in french
    with translation.override("en"):
        assert reasons.shown(english, detail) == english


def test_a_nested_reason_is_in_the_reader_s_language_too():
    detail = reasons.gave_up(3, reasons.reason("timed_out", worker="w1:8068"))
    assert reasons.text(detail) == "gave up after 3 attempts; last: worker w1:8068 timed out"
    with translation.override("fr"):
        assert reasons.shown(reasons.text(detail), detail) == \
            "abandonné après 3 tentatives\xa0; la dernière\xa0: le worker w1:8068 ne répond plus"
    # A last reason that had no detail (a worker's own sentence) is quoted as it was.
    detail = reasons.gave_up(2, "the compiler fell over")
    with translation.override("fr"):
        assert reasons.shown(reasons.text(detail), detail).endswith("\xa0: the compiler fell over")


@pytest.mark.parametrize("code", reasons.RECOGNISED)
def test_each_worker_sentence_is_recognised_as_its_template(code):
    detail = sample(code)
    assert reasons.recognise(reasons.text(detail)) == detail


def test_the_game_server_s_failure_as_the_worker_writes_it():
    """matches._program_failure's sentence, its verdict kept to say how in the reader's
    words, and its excerpt (the server's last line) quoted."""
    verdict = {"ended": "limit", "limit": "processes", "limit_value": "5"}
    outcome = Outcome(returncode=None, reason="stopped: more processes than its limit (5)",
                      verdict=verdict)
    sentence = matches._program_failure("the game server", outcome, b"log\nfork: again\n")
    detail = reasons.recognise(sentence, verdict)
    assert detail == {"code": "server_failed", "params": {
        "how": "stopped: more processes than its limit (5)", "excerpt": "fork: again",
        "verdict": verdict}}
    assert reasons.text(detail) == sentence
    with translation.override("fr"):
        assert reasons.shown(sentence, detail) == (
            "le serveur du jeu a échoué (arrêté\xa0: a tenté de lancer plus de 5 processus et "
            "threads à la fois)\xa0: fork: again")


def test_a_sentence_too_long_for_the_worker_s_is_not_read():
    """A template of two parameters would take the master seconds on this one."""
    sentence = "champion " + ": cannot unpack its compiled archive (" * 5000
    assert len(sentence) > reasons.MAX_RECOGNISED
    assert reasons.recognise(sentence) is None
    assert reasons.recognise(sentence[:reasons.MAX_RECOGNISED - 1] + ")") is not None


def test_any_other_sentence_has_no_detail_and_shows_as_written():
    assert reasons.recognise("the compiler fell over") is None
    assert reasons.parts("the compiler fell over") == ("the compiler fell over", None)
    with translation.override("fr"):
        assert reasons.shown("the compiler fell over", None) == "the compiler fell over"
        # A code this version does not know (a newer one wrote it).
        assert reasons.shown("new words", {"code": "newer", "params": {}}) == "new words"


def test_a_reason_is_refused_for_an_unknown_code_or_wrong_parameters():
    with pytest.raises(ValueError, match="no reason template 'nope'"):
        reasons.reason("nope")
    with pytest.raises(ValueError, match=r"takes \['worker'\], not \['host'\]"):
        reasons.reason("timed_out", host="w1")
