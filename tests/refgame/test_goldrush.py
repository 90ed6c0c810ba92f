"""Gold rush: its map format and rules, and real matches between the sample champions."""

import os
import re

import pytest

from stechec.refgame.games.base import RulesError
from stechec.refgame.games.goldrush import GoldRush
from tests.refgame.helpers import SAMPLE_LANGUAGES, SHARE, run_match

MAPS = os.path.join(SHARE, "maps", "goldrush")
CORRIDOR = "turns 5\n#####\n#1o2#\n#o..#\n#####\n"


def test_request_describes_grid_and_players():
    game = GoldRush(2, CORRIDOR)
    assert game.request(1) == "1 2 5 4 5 ######.o.##o..###### 1 1 0 1 3 0"


def test_moves_are_simultaneous_and_a_shared_coin_scores_for_both():
    game = GoldRush(2, CORRIDOR)
    assert game.play({0: "R", 1: "l"}) == set()
    assert game.positions == [(1, 2), (1, 2)]
    assert game.scores() == [1, 1]
    assert game.states[-1]["moves"] == ["R", "L"]
    assert game.states[-1]["coins"] == [[2, 1]]


@pytest.mark.parametrize("answer", ["U", "X", "", "left"])
def test_wall_or_unknown_answer_is_illegal_and_the_player_stays(answer):
    game = GoldRush(2, CORRIDOR)
    assert game.play({0: answer, 1: "S"}) == {0}
    assert game.positions[0] == (1, 1)
    assert game.states[-1]["moves"] == [None, "S"]


def test_game_ends_when_coins_are_gone_or_turns_run_out():
    game = GoldRush(2, CORRIDOR)
    game.play({0: "R"})
    game.play({0: "L"})
    game.play({0: "D"})
    assert game.is_over() and game.scores() == [2, 0]
    game = GoldRush(2, CORRIDOR)
    for _ in range(5):
        assert not game.is_over()
        game.play({})
    assert game.is_over() and game.turn == 5


@pytest.mark.parametrize(("text", "error"), [
    ("", "no grid"),
    ("#####\n#1x2#\n", "unexpected character 'x'"),
    ("#####\n#1.2#\n###\n", "line 3: 3 cells where the first row has 5"),
    ("turns many\n#1.2#\n", "expected 'turns N'"),
    ("#1.1#\n", "start 1 appears twice"),
    ("#1..#\n", "no start 2 for 2 players"),
    ("#1.2#\n\n#...#\n", "line 3: text after the grid's end"),
    ("1" + "." * 39 + "2\n", "larger than 40x40"),
])
def test_bad_map_is_refused_with_a_reason(text, error):
    with pytest.raises(RulesError, match=re.escape(error)):
        GoldRush(2, text)


@pytest.mark.parametrize("nb_players", [1, 5])
def test_two_to_four_players(nb_players):
    with pytest.raises(RulesError, match="2 to 4 players"):
        GoldRush(nb_players, CORRIDOR)


@pytest.mark.parametrize("name", sorted(os.listdir(MAPS)))
def test_sample_maps_load(name):
    with open(os.path.join(MAPS, name)) as f:
        text = f.read()
    GoldRush(2, text)
    if name != "duel.map":
        GoldRush(4, text)


@pytest.mark.parametrize("lang", SAMPLE_LANGUAGES)
def test_good_beats_three_randoms(tmp_path, samples, lang):
    good, random = samples["goldrush", f"{lang}-good"], samples["goldrush", f"{lang}-random"]
    match = run_match(tmp_path, "goldrush", [random, good, random, random],
                      map_path=os.path.join(MAPS, "crossroads.map"))
    assert match.server_status == 0, match.server_log
    assert match.client_statuses == [0, 0, 0, 0], match.client_logs
    assert [doc["player"] for doc in match.results] == ["p1", "p2", "p3", "p4"]
    assert match.timeouts() == [0, 0, 0, 0]
    scores = match.scores()
    assert scores[1] == max(scores) and scores.count(scores[1]) == 1, scores
    assert match.dump["states"][-1]["scores"] == scores


def test_languages_play_each_other_and_dump_follows_the_format(tmp_path, samples):
    match = run_match(tmp_path, "goldrush",
                      [samples["goldrush", "c-good"], samples["goldrush", "python-good"],
                       samples["goldrush", "cpp-random"]],
                      map_path=os.path.join(MAPS, "open-field.map"))
    dump = match.dump
    assert dump["game"] == "goldrush"
    assert dump["players"] == ["p1", "p2", "p3"]
    assert (dump["height"], dump["width"], dump["turns"]) == (7, 11, 30)
    assert dump["walls"] == ["." * 11] * 7
    states = dump["states"]
    assert states[0]["turn"] == 0 and states[0]["moves"] is None
    assert states[0]["positions"] == [[0, 0], [0, 10], [6, 10]]
    assert len(states[0]["coins"]) == 22
    taken = sum(match.scores())
    assert taken >= len(states[0]["coins"]) - len(states[-1]["coins"])
    assert len(states) - 1 == states[-1]["turn"] <= 30
    for previous, state in zip(states, states[1:], strict=False):
        for (r0, c0), (r1, c1) in zip(previous["positions"], state["positions"], strict=True):
            assert abs(r1 - r0) + abs(c1 - c0) <= 1


def test_a_client_without_the_servers_map_loses_every_turn(tmp_path, samples):
    # As stechec2's client aborts without --map and its player is counted as timing out.
    good = samples["goldrush", "c-good"]
    crossroads = os.path.join(MAPS, "crossroads.map")
    match = run_match(tmp_path, "goldrush", [good, good, good], map_path=crossroads,
                      client_maps=[crossroads, None, os.path.join(MAPS, "open-field.map")])
    assert match.server_status == 0, match.server_log
    turns = match.dump["states"][-1]["turn"]
    assert match.timeouts() == [0, turns, turns]
    assert "client 1 does not have the server's map (no --map)" in match.server_log
    assert "client 2 does not have the server's map (another --map)" in match.server_log
    assert match.client_statuses[1:] == [1, 1], match.client_logs


def test_a_client_whose_map_cannot_be_read_stops(tmp_path, samples):
    good = samples["goldrush", "c-good"]
    match = run_match(tmp_path, "goldrush", [good, good],
                      map_path=os.path.join(MAPS, "duel.map"),
                      client_maps=[os.path.join(MAPS, "duel.map"), tmp_path / "missing.map"])
    assert match.client_statuses[1] == 1
    assert "cannot read the map" in match.client_logs[1]


def test_default_map_without_map_flag(tmp_path, samples):
    good = samples["goldrush", "c-good"]
    match = run_match(tmp_path, "goldrush", [good, good])
    assert match.server_status == 0, match.server_log
    assert match.dump["turns"] == 80
    assert sum(match.scores()) > 0
