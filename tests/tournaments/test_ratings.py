"""Ratings: OpenSkill updates, the displayed score, and the replay of history."""

import random

import pytest

from stechec.contest import ratings
from stechec.contest.ratings import Rating
from stechec.contest.standings import MatchResult


def test_a_new_champion_shows_zero():
    assert Rating().display == pytest.approx(0.0)
    assert Rating(30.0, 2.0).display == pytest.approx(24.0)


def test_the_winner_rises_the_loser_falls_and_the_input_is_left_alone():
    before = {1: Rating(), 2: Rating(), 9: Rating(40.0, 1.0)}
    after = ratings.update(before, MatchResult(1, ((2, 1), (1, 5))))
    assert before == {1: Rating(), 2: Rating(), 9: Rating(40.0, 1.0)}
    assert after[1].mu > 25 > after[2].mu
    assert after[1].sigma < before[1].sigma
    assert after[9] == before[9]


def test_equal_scores_tie_and_higher_scores_rank_first_for_many_players():
    after = ratings.update({}, MatchResult(1, ((1, 0), (2, 7), (3, 7), (4, 3))))
    assert after[2] == after[3]
    assert after[2].mu > after[4].mu > after[1].mu
    draw = ratings.update({}, MatchResult(2, ((1, 4), (2, 4))))
    assert draw[1].mu == draw[2].mu == pytest.approx(25.0)


def test_failed_matches_and_self_play_change_nothing():
    start = {1: Rating(27.0, 5.0), 2: Rating()}
    assert ratings.update(start, MatchResult(1, ((1, None), (2, None)), failed=True)) == start
    assert ratings.update(start, MatchResult(2, ((1, 3), (1, 0)))) == start
    assert ratings.update(start, MatchResult(3, ((1, 3), (2, 1), (1, 0)))) == start


def random_history(rng, nb_matches, nb_champions):
    history = []
    for match_id in range(1, nb_matches + 1):
        players = rng.sample(range(1, nb_champions + 1), rng.choice([2, 2, 2, 3, 4]))
        failed = rng.random() < 0.05
        history.append(MatchResult(match_id, tuple(
            (champion, None if failed else rng.randint(0, 3)) for champion in players), failed))
    return history


def test_recompute_equals_incremental_updates_exactly():
    rng = random.Random(2026)
    history = random_history(rng, 1500, 25)
    incremental = {}
    for result in history:
        incremental = ratings.update(incremental, result)
    # The replay gets the matches shuffled, some twice: it orders them by id, each once.
    replayed = history + rng.sample(history, 100)
    rng.shuffle(replayed)
    assert ratings.replay_in_match_order(replayed) == incremental
    assert len(incremental) == 25


def test_ratings_find_the_stronger_champions():
    rng = random.Random(7)
    strength = {champion: champion for champion in range(1, 9)}
    history = []
    for match_id in range(1, 801):
        a, b = rng.sample(sorted(strength), 2)
        history.append(MatchResult(match_id, ((a, strength[a] + rng.randint(0, 2)),
                                              (b, strength[b] + rng.randint(0, 2)))))
    final = ratings.replay_in_match_order(history)
    assert sorted(final, key=lambda champion: final[champion].display) == sorted(strength)


def test_the_models_initial_rating_is_the_rules():
    """models.py writes OpenSkill's initial rating as numbers (it imports no rule module)."""
    from stechec.contest import models

    assert (models.INITIAL_RATING_MU, models.INITIAL_RATING_SIGMA) == (ratings.INITIAL_MU,
                                                                       ratings.INITIAL_SIGMA)
