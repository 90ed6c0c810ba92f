"""The continuous ladder's choice: which ranked matches to start next, at background priority.

Plain Python over champion ids, ratings and counts, so that its database
side (ladder.py) stays thin and the choice is tested without a database.
See docs/tournaments.md ("Ladder").

Each new match is built around the champion that needs a game most: the
fewest games played (a new champion plays its placement games before anyone
else plays again), then the longest wait since its last game. Its opponents
are drawn at random among the champions closest to it in rating, so that
ranked matches are informative without always replaying the same pairs.
"""

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from stechec.contest.pairing import Pairing

# Opponents are drawn among this many champions closest in rating.
OPPONENT_WINDOW = 4


@dataclass(frozen=True)
class LadderChampion:
    """A champion the ladder may schedule.

    `rating` is what opponents are matched on: the rating's mean (mu), the
    best guess of its skill (the displayed score of a new champion is its
    most pessimistic guess, and would throw it against the weakest).
    `games` counts its finished ranked matches; `waiting_since` is any
    comparable value, earlier meaning longer wait (e.g. the end time of its
    last ranked match, or its upload time for a new champion).
    """

    id: int
    rating: float
    games: int
    waiting_since: float


def choose_matches(champions: Iterable[LadderChampion], in_flight: Iterable[Sequence[int]], *,
                   quota: int, nb_players: int, seed, maps: Sequence[int | None] = (),
                   player_matches_waiting: int = 0,
                   window: int = OPPONENT_WINDOW) -> list[Pairing]:
    """The ranked matches to create now, at most `quota` minus those in flight.

    `in_flight` holds the champions of every ladder match not finished yet;
    those champions are busy and are not scheduled again until it ends.
    Nothing is started while `player_matches_waiting` is not zero: the
    ladder only fills capacity no player is waiting for. `seed` drives the
    random choices (opponents, seat order, map), so a given state and seed
    always give the same matches.
    """
    if nb_players < 2:
        raise ValueError(f"a match needs at least 2 players, not {nb_players}")
    if quota < 0:
        raise ValueError(f"the ladder quota must be 0 or more, not {quota}")
    in_flight = list(in_flight)
    free = quota - len(in_flight)
    if free <= 0 or player_matches_waiting:
        return []
    busy = {champion for match in in_flight for champion in match}
    available = sorted((c for c in champions if c.id not in busy),
                       key=lambda c: (c.games, c.waiting_since, c.id))
    rng = random.Random(f"ladder/{seed}")
    maps = list(maps) or [None]
    matches = []
    while len(matches) < free and len(available) >= nb_players:
        focus = available.pop(0)
        closest = sorted(available, key=lambda c: (abs(c.rating - focus.rating), c.id))
        opponents = rng.sample(closest[:max(window, nb_players - 1)], nb_players - 1)
        for opponent in opponents:
            available.remove(opponent)
        seats = [focus.id] + [opponent.id for opponent in opponents]
        rng.shuffle(seats)
        matches.append(Pairing(tuple(seats), rng.choice(maps)))
    return matches
