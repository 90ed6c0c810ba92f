"""Two players on the whole cluster, through HTTP only: champions in three languages,
twenty matches between them, tictactoe's scores, and who may read which log."""

import os

import pytest

from tests.e2e.client import PlayerSession, match_seats, status_of
from tests.e2e.conftest import SAMPLES, wait_for

# The test itself only talks HTTP; the marker has the test database made for the
# cluster (transactional: no transaction of the test's own holds SQLite's lock).
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LANGUAGES = ("c", "cpp", "python")
MATCHES = 20


def upload_samples(player, kind):
    """Each language's `kind` (good or random) sample, uploaded by `player`: {language: id}."""
    return {language: player.upload(f"{language}-{kind}",
                                     os.path.join(SAMPLES, f"{language}-{kind}"))
            for language in LANGUAGES}


def wait_until_ready(cluster, player, champion_ids):
    def all_ready():
        for pk in champion_ids:
            status = status_of(player.get(f"/champions/{pk}/").body, "champion-status")
            assert status not in ("error", "failed"), (
                f"champion {pk} is {status}:\n{player.get(f'/champions/{pk}/compilation.log')}")
            if status != "ready":
                return False
        return True
    wait_for(cluster, all_ready, f"champions {champion_ids} to be ready")


def wait_until_done(cluster, player, match_ids):
    """{match id: its page} once every match is done."""
    pages = {}

    def all_done():
        for pk in set(match_ids) - set(pages):
            body = player.get(f"/matches/{pk}/").body
            status = status_of(body, "match-status")
            assert status != "failed", f"match {pk} failed:\n{body}"
            if status == "done":
                pages[pk] = body
        return len(pages) == len(match_ids)
    wait_for(cluster, all_done, f"{len(match_ids)} matches to be done", timeout=240)
    return pages


def test_two_players_play_twenty_matches_and_read_only_their_own_logs(cluster, session):
    alice, bob, carol = session("alice"), session("bob"), session("carol")
    good = upload_samples(alice, "good")
    random = upload_samples(bob, "random")
    wait_until_ready(cluster, alice, good.values())
    wait_until_ready(cluster, bob, random.values())

    # Every pairing of languages, each in both seat orders; alice launches the
    # matches where her champion plays first, bob the others.
    pairs = [(good[a], random[b]) for a in LANGUAGES for b in LANGUAGES]
    launched = {}
    for n in range(MATCHES):
        good_id, random_id = pairs[(n // 2) % len(pairs)]
        if n % 2 == 0:
            launched[alice.launch_match(good_id, random_id)] = (good_id, random_id)
        else:
            launched[bob.launch_match(random_id, good_id)] = (random_id, good_id)
    pages = wait_until_done(cluster, alice, list(launched))

    good_ids = set(good.values())
    played_in_time = 0
    for pk, champions in launched.items():
        seats = match_seats(pages[pk])
        assert tuple(s.champion_id for s in seats) == champions, f"match {pk}: {seats}"
        assert [s.author for s in seats] == [
            "alice" if c in good_ids else "bob" for c in champions], f"match {pk}: {seats}"
        scores = [s.score for s in seats]
        # tictactoe: win 2, draw 1, loss 0.
        assert sorted(scores) in ([0, 2], [1, 1]), f"match {pk}: scores {scores}"
        good_seat = next(s for s in seats if s.champion_id in good_ids)
        # A champion that misses its 1 s per move (a loaded machine) loses that
        # move; answering every time, the good one never loses to random play.
        if good_seat.timeouts == 0:
            played_in_time += 1
            assert good_seat.score >= 1, f"match {pk}: the good champion lost: {seats}"
    assert played_in_time, "the good champions timed out in every match"

    # Alice's page of a match shows a log link for her seat only; bob's for his.
    match_id = next(iter(launched))
    alice_seat, bob_seat = match_seats(pages[match_id])
    assert alice_seat.log_url and bob_seat.log_url is None
    bob_view = match_seats(bob.get(f"/matches/{match_id}/").body)
    assert bob_view[0].log_url is None and bob_view[1].log_url
    bob_log = bob_view[1].log_url

    # What each may read: own compile log and sources, the server log of
    # their matches, their own player log.
    for player, own_champion in ((alice, good["c"]), (bob, random["c"])):
        log = player.get(f"/champions/{own_champion}/compilation.log")
        assert log.status == 200 and "Compilation succeeded" in log.body, log
        assert player.get(f"/champions/{own_champion}/sources.tgz").status == 200
        server_log = player.get(f"/matches/{match_id}/server.log")
        assert server_log.status == 200 and server_log.body.strip(), server_log
    assert alice.get(alice_seat.log_url).status == 200
    assert bob.get(bob_log).status == 200

    # And what they may not: the other's compile log, sources and player log;
    # a bystander, the server log of a match they have no part in.
    refused = [
        (alice, f"/champions/{random['c']}/compilation.log"),
        (alice, f"/champions/{random['python']}/sources.tgz"),
        (alice, bob_log),
        (bob, f"/champions/{good['cpp']}/compilation.log"),
        (bob, f"/champions/{good['c']}/sources.tgz"),
        (bob, alice_seat.log_url),
        (carol, f"/matches/{match_id}/server.log"),
        (carol, alice_seat.log_url),
    ]
    for player, path in refused:
        assert player.get(path).status in (403, 404), path
    other_champion = alice.get(f"/champions/{random['c']}/").body
    assert "Compilation log" not in other_champion

    # Without logging in, a log leads to the login form, not to the log.
    anonymous = PlayerSession(cluster.url).get(f"/champions/{good['c']}/compilation.log")
    assert "/accounts/login/" in anonymous.url
