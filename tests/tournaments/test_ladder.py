"""The ladder's choice of the next ranked matches."""

import random

import pytest

from stechec.contest.ladder_choice import LadderChampion, choose_matches


def field(nb, games=5, spacing=10.0):
    return [LadderChampion(id=i, rating=spacing * i, games=games, waiting_since=100.0 + i)
            for i in range(1, nb + 1)]


def test_never_more_than_the_quota_in_flight():
    rng = random.Random(3)
    candidates = {c.id: c for c in field(20)}
    in_flight = []
    for step in range(200):
        new = choose_matches(candidates.values(), in_flight, quota=6, nb_players=2, seed=step)
        in_flight.extend(match.champions for match in new)
        assert len(in_flight) <= 6
        if step % 5 == 0:
            assert len(in_flight) == 6  # topped up to its quota whenever asked
        for match in rng.sample(in_flight, rng.randint(0, len(in_flight))):
            in_flight.remove(match)
            for champion in match:
                old = candidates[champion]
                candidates[champion] = LadderChampion(champion, old.rating, old.games + 1, step)
    assert choose_matches(field(20), [(1, 2)] * 6, quota=6, nb_players=2, seed=0) == []
    assert choose_matches(field(20), [], quota=0, nb_players=2, seed=0) == []


def test_busy_champions_wait_and_player_matches_come_first():
    matches = choose_matches(field(6), [(1, 2), (3, 4)], quota=10, nb_players=2, seed=0)
    assert [set(m.champions) for m in matches] == [{5, 6}]
    assert choose_matches(field(6), [], quota=10, nb_players=2, seed=0,
                          player_matches_waiting=1) == []


def test_the_fewest_games_first_then_the_longest_wait():
    candidates = field(10)
    candidates[6] = LadderChampion(7, 70.0, games=0, waiting_since=999.0)   # new champion
    candidates[2] = LadderChampion(3, 30.0, games=1, waiting_since=500.0)
    candidates[8] = LadderChampion(9, 90.0, games=1, waiting_since=400.0)
    for seed in range(20):
        matches = choose_matches(candidates, [], quota=3, nb_players=2, seed=seed, window=1)
        assert [7 in matches[0].champions, 9 in matches[1].champions,
                3 in matches[2].champions] == [True, True, True]


def test_opponents_are_close_in_rating_with_some_randomness():
    candidates = field(30)
    candidates[0] = LadderChampion(1, 150.0, games=0, waiting_since=0.0)   # rated between 15 and 16
    opponents = set()
    for seed in range(40):
        first = choose_matches(candidates, [], quota=1, nb_players=2, seed=seed)[0]
        (opponent,) = set(first.champions) - {1}
        opponents.add(opponent)
    assert opponents <= {13, 14, 15, 16, 17}   # the window of 4 closest: 15, 16, 14, 17
    assert len(opponents) > 1
    first = choose_matches(candidates, [], quota=1, nb_players=2, seed=0, window=1)[0]
    assert set(first.champions) in ({1, 15}, {1, 16})


def test_matches_of_more_players_on_random_maps_are_deterministic():
    kwargs = dict(quota=3, nb_players=4, seed="ladder/17", maps=[5, 6])
    matches = choose_matches(field(14), [], **kwargs)
    assert matches == choose_matches(field(14), [], **kwargs)
    assert len(matches) == 3
    seated = [c for m in matches for c in m.champions]
    assert len(seated) == len(set(seated)) == 12
    assert {m.map for m in matches} <= {5, 6}
    assert choose_matches(field(14), [], quota=3, nb_players=2, seed=0)[0].map is None


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="a match needs at least 2 players, not 1"):
        choose_matches(field(3), [], quota=1, nb_players=1, seed=0)
    with pytest.raises(ValueError, match="the ladder quota must be 0 or more, not -1"):
        choose_matches(field(3), [], quota=-1, nb_players=2, seed=0)
