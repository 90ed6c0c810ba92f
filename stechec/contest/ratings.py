"""Champion ratings, for any number of players per match, through OpenSkill.

A rating is a Gaussian belief about a champion's skill: `mu` (the mean) and
`sigma` (the uncertainty). OpenSkill's Bradley-Terry "full pairing" model
updates it from a match's ranking, as every pair of players in the match
compared: players are ranked by score, higher is better, equal scores tie.
(Not OpenSkill's default Plackett-Luce model: in openskill 6 it mishandles
ties, e.g. with ranks 1, 1, 3 the third gains as much as the two winners;
openskill.py issue #155.) Pages show the conservative score `mu - DISPLAY_SIGMAS * sigma`, which
starts at 0 and rises as a champion both wins and proves it.

Updates are sequential Bayesian steps, so the order matters:
`replay_in_match_order` replays finished matches by match id, and is bit for
bit what applying `update` to the same matches one by one in that order
gives. The database replays them in the order the master rated them instead
(`Match.rated_seq`, champion_ratings.recompute_in_rated_order).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from openskill.models import BradleyTerryFull

from .standings import MatchResult, unique_results

MODEL = BradleyTerryFull()
INITIAL_MU = MODEL.mu
INITIAL_SIGMA = MODEL.sigma
# About 99.7% of the belief lies above mu - 3 sigma: a champion's displayed
# score is very probably below its true skill, so luck alone does not climb.
DISPLAY_SIGMAS = 3.0


@dataclass(frozen=True)
class Rating:
    mu: float = INITIAL_MU
    sigma: float = INITIAL_SIGMA

    @property
    def display(self):
        """The conservative score shown on pages."""
        return self.mu - DISPLAY_SIGMAS * self.sigma


def is_rated(result: MatchResult):
    """Whether a match moves ratings: it finished, and no champion holds two seats.

    A champion playing itself (a player's test match) says nothing about its
    skill, and OpenSkill cannot give one champion two updates from one match.
    """
    champions = result.champions
    return not result.failed and len(set(champions)) == len(champions)


def ranks(result: MatchResult):
    """0-based rank per seat: how many players scored strictly more."""
    scores = [score for _, score in result.players]
    return [sum(1 for other in scores if other > score) for score in scores]


def update(ratings: Mapping[int, Rating], result: MatchResult) -> dict[int, Rating]:
    """The ratings after `result`: a new dict, `ratings` is left untouched.

    Champions missing from `ratings` start at the initial rating; a match
    that is not rated (see `is_rated`) changes nothing.
    """
    new = dict(ratings)
    if not is_rated(result):
        return new
    champions = result.champions
    teams = [[MODEL.rating(mu=rating.mu, sigma=rating.sigma)]
             for rating in (ratings.get(champion, Rating()) for champion in champions)]
    rated = MODEL.rate(teams, ranks=[float(rank) for rank in ranks(result)])
    for champion, (player,) in zip(champions, rated, strict=True):
        new[champion] = Rating(player.mu, player.sigma)
    return new


def replay_in_match_order(history: Iterable[MatchResult]) -> dict[int, Rating]:
    """Every champion's rating, replaying `history` from scratch by match id.

    Each match counts once; failed matches and champions playing themselves
    count for nothing.
    """
    ratings = {}
    for result in unique_results(history):
        ratings = update(ratings, result)
    return ratings
