"""Tic-tac-toe: its rules, and real matches between the sample champions."""

import itertools

import pytest

from stechec.refgame.games.tictactoe import TicTacToe
from tests.refgame.helpers import SAMPLE_LANGUAGES, run_match


def play(game, *answers):
    for answer in answers:
        game.play({game.to_play: answer})
    return game


def test_first_line_of_three_wins_2_to_0():
    game = play(TicTacToe(2), "0 0", "1 0", "0 1", "1 1", "0 2")
    assert game.is_over()
    assert game.scores() == [2, 0]
    assert game.states[-1]["winner"] == 0
    assert game.states[-1]["board"][0] == [0, 0, 0]


def test_full_board_without_line_is_a_draw():
    game = play(TicTacToe(2), "0 0", "0 1", "0 2", "1 1", "1 0", "1 2", "2 1", "2 0", "2 2")
    assert game.is_over()
    assert game.scores() == [1, 1]
    assert game.states[-1]["winner"] is None


@pytest.mark.parametrize("answer", ["0 0", "3 1", "one two", "1", "", "0 0 0"])
def test_illegal_answer_is_a_pass(answer):
    game = play(TicTacToe(2), "0 0")
    assert game.play({1: answer}) == {1}
    assert game.to_play == 0
    assert game.states[-1]["last_move"] is None
    assert sum(cell is not None for row in game.board for cell in row) == 1


def test_game_of_passes_ends_in_a_draw_after_9_turns_each():
    game = TicTacToe(2)
    while not game.is_over():
        game.play({})
    assert game.turn == 18
    assert game.scores() == [1, 1]


def test_request_tells_seat_and_board():
    game = play(TicTacToe(2), "1 1")
    assert game.request(1) == "1 ....0...."


@pytest.mark.parametrize("lang", SAMPLE_LANGUAGES)
def test_good_never_loses_against_random(tmp_path, samples, lang):
    good, random = samples["tictactoe", f"{lang}-good"], samples["tictactoe", f"{lang}-random"]
    # Compiled champions are cheap: more games where they are.
    nb_games = 3 if lang == "python" else 6
    for number in range(nb_games):
        seats = [good, random] if number % 2 == 0 else [random, good]
        match = run_match(tmp_path / str(number), "tictactoe", seats)
        assert match.server_status == 0, match.server_log
        assert match.client_statuses == [0, 0], match.client_logs
        good_name = "p1" if number % 2 == 0 else "p2"
        results = match.by_name()
        assert set(results) == {"p1", "p2"}
        assert results[good_name]["score"] in (1, 2), match.server_log
        assert sum(match.scores()) == 2
        assert match.timeouts() == [0, 0]


@pytest.mark.parametrize("lang", SAMPLE_LANGUAGES)
def test_good_against_good_is_a_draw(tmp_path, samples, lang):
    good = samples["tictactoe", f"{lang}-good"]
    match = run_match(tmp_path, "tictactoe", [good, good])
    assert match.scores() == [1, 1]
    assert match.dump["states"][-1]["winner"] is None


def test_languages_play_each_other_and_dump_follows_the_format(tmp_path, samples):
    match = run_match(tmp_path, "tictactoe",
                      [samples["tictactoe", "cpp-random"], samples["tictactoe", "python-good"]])
    dump = match.dump
    assert dump["game"] == "tictactoe"
    assert dump["players"] == ["p1", "p2"]
    states = dump["states"]
    assert states[0] == {"turn": 0, "board": [[None] * 3] * 3, "last_move": None,
                         "to_play": 0}
    for previous, state in itertools.pairwise(states):
        assert state["turn"] == previous["turn"] + 1
        assert state["to_play"] == 1 - previous["to_play"]
        row, col = state["last_move"]
        assert previous["board"][row][col] is None
        assert state["board"][row][col] == previous["to_play"]
    assert all("winner" not in state for state in states[:-1])
    winner = states[-1]["winner"]
    assert winner in (None, 1)
    assert match.scores() == ([1, 1] if winner is None else [0, 2])
