import sys

import pytest
from django.urls import reverse

from stechec.contest.models import Map, Tournament, TournamentPlayer
from stechec.www.contest.tournament_reports import ranking
from tests.www.helpers import ready_champion, text

pytestmark = pytest.mark.django_db


def test_create_a_map_and_see_it(alice_client, alice):
    response = alice_client.post(reverse("map-new"), {"name": "cross",
                                                      "contents": "x.x\r\n.x.\r\nx.x\r\n"})

    board = Map.objects.get()
    assert response["Location"] == reverse("map-detail", args=[board.pk])
    assert (board.author, board.contents, board.official) == (alice, "x.x\n.x.\nx.x\n", False)
    assert "cross" in text(alice_client.get(reverse("map-list")))
    assert "x.x\n.x.\nx.x" in text(alice_client.get(reverse("map-detail", args=[board.pk])))


@pytest.mark.parametrize(("contents", "message"), [
    ("  \n\t\n", "The map is empty."),
    ("x" * 101, "the limit is 100"),
    ("a\0b", "Null characters are not allowed"),
    ("..#\n.\x01.\n", "The map holds the control character '\\x01' (line 2, column 2); a map "
                      "is text: only tabs and line breaks are allowed."),
    ("ok\x1b[31m", "control character '\\x1b' (line 1, column 3)"),
    ("ok\x7f", "control character '\\x7f'"),
])
def test_bad_maps_are_refused(alice_client, site, contents, message):
    site["contest"]["map_max_bytes"] = 100
    response = alice_client.post(reverse("map-new"), {"name": "bad", "contents": contents})
    assert message in text(response)
    assert not Map.objects.exists()


def test_tabs_and_line_breaks_are_text(alice_client):
    contents = "a\tb\r\nc\rd\n"
    alice_client.post(reverse("map-new"), {"name": "tabs", "contents": contents})
    assert Map.objects.get().contents == "a\tb\nc\rd\n"


@pytest.fixture
def validator(site, tmp_path):
    """contest.map_validator set to a program refusing maps that say "bad" (the game's
    words on stdout, a note on stderr) and hanging on maps that say "slow"."""
    program = tmp_path / "validate-map"
    program.write_text(f"""#!{sys.executable}
import sys, time
text = open(sys.argv[1], encoding="utf-8").read()
if "slow" in text:
    time.sleep(60)
if "bad" in text:
    print("line 1: the map has no base for player 2")
    print("(stderr too)", file=sys.stderr)
    sys.exit(3)
""")
    program.chmod(0o755)
    site["contest"]["map_validator"] = str(program)
    return program


def test_a_map_name_with_a_control_character_is_refused(alice_client):
    response = alice_client.post(reverse("map-new"), {"name": "m\x1b[31m", "contents": "x\n"})

    assert "The name holds a control character ('\\x1b' at character 2)" in text(response)
    assert not Map.objects.exists()


def test_the_games_validator_refuses_a_map_with_its_message(alice_client, validator):
    response = alice_client.post(reverse("map-new"), {"name": "m", "contents": "a bad map\n"})
    assert ("The game's map validator refused this map (exit status 3): line 1: the map has "
            "no base for player 2\n(stderr too)") in text(response)
    assert not Map.objects.exists()

    alice_client.post(reverse("map-new"), {"name": "m", "contents": "a good map\n"})
    assert Map.objects.get().contents == "a good map\n"


def test_a_validator_that_hangs_or_cannot_run_refuses_the_map(alice_client, site, validator):
    site["contest"]["map_validator_timeout_secs"] = 0.5
    response = alice_client.post(reverse("map-new"), {"name": "m", "contents": "slow\n"})
    assert "The game's map validator did not finish within 0.5 s" in text(response)

    validator.unlink()
    response = alice_client.post(reverse("map-new"), {"name": "m", "contents": "fine\n"})
    assert "The game's map validator cannot run, so the map cannot be checked" in text(response)
    assert not Map.objects.exists()


def test_ranking_shares_ranks_between_equal_points(alice):
    tournament = Tournament.objects.create(name="t")
    entries = [TournamentPlayer(tournament=tournament, champion=ready_champion(alice, n),
                                score=s) for n, s in [("a", 3), ("b", 5), ("c", 3), ("d", 1)]]
    TournamentPlayer.objects.bulk_create(entries)

    rows = ranking(TournamentPlayer.objects.filter(tournament=tournament)
                   .select_related("champion"))

    assert [(rank, p.champion.name, p.score) for rank, p in rows] == [
        (1, "b", 5), (2, "a", 3), (2, "c", 3), (4, "d", 1)]


def test_stored_ranks_win_when_every_entry_has_one(alice):
    tournament = Tournament.objects.create(name="t")
    for name, score, rank in [("a", 3, 2), ("b", 3, 1)]:
        TournamentPlayer.objects.create(tournament=tournament, score=score, rank=rank,
                                        champion=ready_champion(alice, name))
    rows = ranking(TournamentPlayer.objects.filter(tournament=tournament)
                   .select_related("champion"))
    assert [(rank, p.champion.name) for rank, p in rows] == [(1, "b"), (2, "a")]


def test_tournament_pages(alice_client, alice, bob):
    tournament = Tournament.objects.create(name="Finals", status=Tournament.Status.DONE)
    winner = ready_champion(bob, "winner")
    TournamentPlayer.objects.create(tournament=tournament, champion=winner, score=9)
    TournamentPlayer.objects.create(tournament=tournament, score=2,
                                    champion=ready_champion(alice, "loser"))

    assert "Finals" in text(alice_client.get(reverse("tournament-list")))
    page = text(alice_client.get(reverse("tournament-detail", args=[tournament.pk])))
    assert page.index("winner") < page.index("loser")
    assert f"?tournament={tournament.pk}&champion={winner.pk}" in page
