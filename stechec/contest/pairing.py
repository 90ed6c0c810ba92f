"""Tournament formats: which champions meet, on which map, in which seats.

Plain Python over champion and map ids, so that the site, the commands and
the tests share one implementation. See docs/tournaments.md for the rules as
organisers read them.

- Round robin: every group of `nb_players` champions, on every map, in every
  seat order.
- Swiss: rounds of 2-player matches between neighbours in the standings,
  without a rematch while one can be avoided; an odd champion out gets a bye.
- Single elimination: a seeded 2-player bracket (1 against 16, 8 against 9,
  ...); top seeds get byes when the number of champions is not a power of 2.

Swiss and single elimination are defined for 2-player matches only: with
more players per match "winning against your neighbour" and "advancing"
stop meaning one thing. Round robin takes any number of players.
"""

import itertools
import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from stechec.common.i18n import gettext, ngettext

from . import reasons, standings
from .standings import MatchResult

ROUND_ROBIN = "round_robin"
SWISS = "swiss"
SINGLE_ELIMINATION = "single_elimination"
TWO_PLAYER_FORMATS = {SWISS, SINGLE_ELIMINATION}

# How many partial pairings Swiss tries in standings order before it takes
# any pairing without rematches (see `swiss_round`).
SWISS_SEARCH_BUDGET = 20_000


@dataclass(frozen=True)
class Pairing:
    """One match to create: champions in seat order, and its map (None: no map)."""

    champions: tuple[int, ...]
    map: int | None = None


@dataclass(frozen=True)
class Round:
    """The matches of one round, and the champions who sit it out with a bye."""

    pairings: tuple[Pairing, ...]
    byes: tuple[int, ...] = ()


class RoundNotFinished(ValueError):
    """The next round cannot be drawn yet: a match is missing or failed. Its message is
    the English text of `reason`, a detail of stechec.contest.reasons."""

    def __init__(self, reason):
        super().__init__(reasons.text(reason))
        self.reason = reason


def check_format(format, nb_players):
    """Raise ValueError with one clear sentence when `format` cannot hold `nb_players`."""
    if format not in {ROUND_ROBIN, *TWO_PLAYER_FORMATS}:
        raise ValueError(gettext("unknown tournament format %(format)s")
                         % {"format": repr(format)})
    if nb_players < 2:
        raise ValueError(gettext("a match needs at least 2 players, not %(count)s")
                         % {"count": nb_players})
    if format in TWO_PLAYER_FORMATS and nb_players != 2:
        raise ValueError(gettext("%(format)s tournaments pair champions two by two; this game "
                                 "has %(count)s players per match: use round robin")
                         % {"format": format.replace("_", " "), "count": nb_players})


def listed(numbers):
    """Every number of a refusal, not the first: "3", "3, 5 and 8"."""
    if len(numbers) == 1:
        return str(numbers[0])
    return gettext("%(first)s and %(last)s") % {
        "first": ", ".join(str(number) for number in numbers[:-1]), "last": numbers[-1]}


def check_champions(champions, minimum):
    champions = list(champions)
    duplicates = sorted(c for c, count in Counter(champions).items() if count > 1)
    if duplicates:
        raise ValueError(ngettext("champion %(numbers)s is entered twice",
                                  "champions %(numbers)s are entered twice", len(duplicates))
                         % {"numbers": listed(duplicates)})
    if len(champions) < minimum:
        raise ValueError(gettext("a tournament with %(minimum)s players per match needs at "
                                 "least %(minimum)s champions, not %(count)s")
                         % {"minimum": minimum, "count": len(champions)})
    return champions


def seatings(champions: Sequence[int], maps: Sequence[int | None]):
    """One match per map, the seats rotating from map to map so that no one always starts."""
    maps = list(maps) or [None]
    return [Pairing(tuple(champions[index % len(champions):])
                    + tuple(champions[:index % len(champions)]), map_id)
            for index, map_id in enumerate(maps)]


# Round robin.

def round_robin_size(nb_champions, nb_players, nb_maps):
    """How many matches a round robin makes: C(n, k) × k! seat orders × maps."""
    return math.perm(nb_champions, nb_players) * max(nb_maps, 1)


def round_robin(champions: Iterable[int], nb_players: int,
                maps: Sequence[int | None] = ()) -> list[Pairing]:
    """Every group of `nb_players` champions, on every map, in every seat order.

    Each ordered group of distinct champions is one seat order of one group,
    so this is every permutation of every combination, each exactly once.
    """
    check_format(ROUND_ROBIN, nb_players)
    champions = check_champions(champions, nb_players)
    maps = list(maps) or [None]
    return [Pairing(seats, map_id)
            for seats in itertools.permutations(sorted(champions), nb_players)
            for map_id in maps]


# Swiss.

def swiss_round(points: Mapping[int, float], past_matches: Iterable[Sequence[int]] = (),
                past_byes: Iterable[int] = (), *, seed, maps: Sequence[int | None] = (),
                search_budget: int = SWISS_SEARCH_BUDGET) -> Round:
    """Pair the champions of a Swiss tournament for its next round.

    `points` maps every champion still in the tournament to its standing
    (its points, or any comparable value such as (points, score)); champions
    with equal standing are ordered by a shuffle drawn from `seed`, so give
    each round its own seed (e.g. "<tournament id>/<round>").
    `past_matches` are the champions of every earlier match, `past_byes`
    the champion of every earlier bye.

    Champions are listed best first and paired with their nearest neighbour
    (1 against 2, 3 against 4, ...), skipping anyone they already met; the
    odd champion out gets a bye, the lowest placed who has not had one. When
    every pairing of the round needs a rematch (or a second bye), pairs that
    met once are allowed, then twice, and so on. Each pair plays once on
    every map, seats alternating. When the search in standings order takes
    more than `search_budget` steps, any pairing under the same rule is
    taken instead.
    """
    champions = check_champions(points, 2)
    order = sorted(champions)
    random.Random(f"swiss/{seed}").shuffle(order)
    order.sort(key=lambda champion: points[champion], reverse=True)
    meetings = Counter()
    for match in past_matches:
        for pair in itertools.combinations(set(match), 2):
            meetings[frozenset(pair)] += 1
    if len(order) % 2:
        order.append(BYE)
        for champion in past_byes:
            meetings[frozenset((champion, BYE))] += 1
    for allowed in sorted({0, *meetings.values()}):
        def may_meet(a, b, allowed=allowed):
            return meetings[frozenset((a, b))] <= allowed
        pairs = pair_in_order(order, may_meet, search_budget)
        if pairs is None:
            pairs = any_perfect_pairing(order, may_meet)
        if pairs is not None:
            break
    seat_rng = random.Random(f"swiss-seats/{seed}")
    pairings, byes = [], []
    for pair in pairs:
        if BYE in pair:
            byes.extend(champion for champion in pair if champion is not BYE)
            continue
        seats = list(pair)
        seat_rng.shuffle(seats)
        pairings.extend(seatings(seats, maps))
    return Round(tuple(pairings), tuple(byes))


def swiss_byes(champions: Iterable[int], rounds: Sequence[Sequence[MatchResult]]):
    """{champion: byes so far}: a champion in no match of a round sat it out with a bye."""
    champions = list(champions)
    byes = Counter()
    for round_results in rounds:
        seated = {champion for result in round_results for champion in result.champions}
        byes.update(champion for champion in champions if champion not in seated)
    return dict(byes)


def swiss_next_round(champions: Iterable[int], rounds: Sequence[Sequence[MatchResult]], *,
                     seed, maps: Sequence[int | None] = (),
                     search_budget: int = SWISS_SEARCH_BUDGET) -> Round:
    """The next round of a Swiss tournament, from every match of its earlier rounds.

    `rounds[r]` holds the matches of round r, all finished (call this once
    no match of the last round is waiting or running). Champions are placed
    by points, then cumulative score, a bye being worth a win (see
    standings.compute); each round draws from its own seed derived from
    `seed` and the round number. Raises RoundNotFinished for a failed match.
    """
    champions = check_champions(champions, 2)
    results = [result for round_results in rounds for result in round_results]
    failed = [result.match_id for result in results if result.failed]
    if failed:
        raise RoundNotFinished(reasons.reason("round_match_failed", match=failed[0]))
    byes = swiss_byes(champions, rounds)
    table = standings.compute(champions, results, byes)
    placing = {row.champion: (row.points, row.score) for row in table.rows}
    past_byes = [champion for champion, count in byes.items() for _ in range(count)]
    return swiss_round(placing, [result.champions for result in results], past_byes,
                       seed=f"{seed}/{len(rounds)}", maps=maps, search_budget=search_budget)


class _Bye:
    """The missing opponent of an odd round, always placed last."""

    def __repr__(self):
        return "BYE"


BYE = _Bye()


class _SearchExhausted(Exception):
    pass


def pair_in_order(order, may_meet, budget):
    """Pairs of `order` where each first unpaired takes its nearest allowed follower.

    Backtracks when the rest cannot be paired; gives up (None) when no such
    pairing exists or after `budget` steps.
    """
    steps = 0

    def search(remaining):
        nonlocal steps
        if not remaining:
            return []
        steps += 1
        if steps > budget:
            raise _SearchExhausted
        first, rest = remaining[0], remaining[1:]
        for index, other in enumerate(rest):
            if may_meet(first, other):
                tail = search(rest[:index] + rest[index + 1:])
                if tail is not None:
                    return [(first, other)] + tail
        return None

    try:
        return search(list(order))
    except _SearchExhausted:
        return None


def any_perfect_pairing(order, may_meet):
    """Some pairing of everyone in `order` using only allowed pairs, or None if none exists.

    Edmonds' blossom algorithm: polynomial where the ordered search above
    can take exponential time before it concludes.
    """
    graph = [[j for j, other in enumerate(order) if j != i and may_meet(champion, other)]
             for i, champion in enumerate(order)]
    mate = maximum_matching(graph)
    if -1 in mate:
        return None
    return [(order[i], order[mate[i]]) for i in range(len(order)) if i < mate[i]]


def maximum_matching(graph):
    """Maximum cardinality matching of an undirected graph given as adjacency lists.

    Returns mate[v] (-1 for unmatched vertices). Edmonds' algorithm, O(V^3).
    """
    size = len(graph)
    mate = [-1] * size

    def augmenting_path_end(root):
        parent = [-1] * size
        base = list(range(size))
        used = [False] * size
        used[root] = True
        queue = [root]

        def common_base(a, b):
            seen = [False] * size
            while True:
                a = base[a]
                seen[a] = True
                if mate[a] == -1:
                    break
                a = parent[mate[a]]
            while True:
                b = base[b]
                if seen[b]:
                    return b
                b = parent[mate[b]]

        def mark_blossom(v, blossom_base, child, in_blossom):
            while base[v] != blossom_base:
                in_blossom[base[v]] = in_blossom[base[mate[v]]] = True
                parent[v] = child
                child = mate[v]
                v = parent[mate[v]]

        head = 0
        while head < len(queue):
            v = queue[head]
            head += 1
            for to in graph[v]:
                if base[v] == base[to] or mate[v] == to:
                    continue
                if to == root or (mate[to] != -1 and parent[mate[to]] != -1):
                    blossom_base = common_base(v, to)
                    in_blossom = [False] * size
                    mark_blossom(v, blossom_base, to, in_blossom)
                    mark_blossom(to, blossom_base, v, in_blossom)
                    for i in range(size):
                        if in_blossom[base[i]]:
                            base[i] = blossom_base
                            if not used[i]:
                                used[i] = True
                                queue.append(i)
                elif parent[to] == -1:
                    parent[to] = v
                    if mate[to] == -1:
                        return to, parent
                    used[mate[to]] = True
                    queue.append(mate[to])
        return -1, parent

    for root in range(size):
        if mate[root] != -1:
            continue
        v, parent = augmenting_path_end(root)
        while v != -1:
            previous = parent[v]
            next_v = mate[previous]
            mate[v], mate[previous] = previous, v
            v = next_v
    return mate


# Single elimination.

def seed_order(ratings: Mapping[int, float]) -> list[int]:
    """Champions best first: higher rating, then lower id (older) on equal ratings."""
    return sorted(ratings, key=lambda champion: (-ratings[champion], champion))


def bracket_positions(size):
    """Seed numbers (1-based) in bracket order for a power-of-2 `size`.

    For 8: 1, 8, 4, 5, 2, 7, 3, 6, so that 1 and 2 can only meet in the
    final and each first-round match is seed s against seed size + 1 - s.
    """
    positions = [1]
    while len(positions) < size:
        total = 2 * len(positions) + 1
        positions = [seed for position in positions for seed in (position, total - position)]
    return positions


def elimination_first_round(seeds: Sequence[int]) -> list[tuple[int, ...]]:
    """The first round's slots, in bracket order, from champions best seed first.

    A slot is a pair of champions who play each other, or a single champion
    with a bye (the top seeds, when the number of champions is not a power
    of 2). Slot 2i's winner meets slot 2i+1's winner in the next round.
    """
    seeds = check_champions(seeds, 2)
    size = 1 << (len(seeds) - 1).bit_length()
    positions = bracket_positions(size)
    return [tuple(seeds[seed - 1] for seed in positions[i:i + 2] if seed <= len(seeds))
            for i in range(0, size, 2)]


def slot_pairings(slots: Sequence[tuple[int, ...]], maps: Sequence[int | None] = ()) -> Round:
    """The matches of a round of slots: each pair once on every map, seats alternating."""
    pairings = [pairing for slot in slots if len(slot) == 2 for pairing in seatings(slot, maps)]
    return Round(tuple(pairings), tuple(slot[0] for slot in slots if len(slot) == 1))


@dataclass(frozen=True)
class Advance:
    """Who won each slot of a finished round, and the next round's slots (none after the final)."""

    winners: tuple[int, ...]
    next_slots: tuple[tuple[int, ...], ...]


def elimination_advance(slots: Sequence[tuple[int, ...]], results: Iterable[MatchResult],
                        seeds: Sequence[int], matches_per_slot: int = 1) -> Advance:
    """Decide a finished round: the winner of each slot, then pair winners of slots 2i, 2i+1.

    `results` may hold every match of the tournament: a slot counts the
    matches between exactly its two champions (they meet in one round only),
    and needs `matches_per_slot` of them finished (one per map).
    A slot's winner took more tournament points over its matches; on equal
    points, the higher cumulative score; then the better seed.
    Raises RoundNotFinished when a slot lacks a finished match or has a failed one.
    """
    seed_of = {champion: index for index, champion in enumerate(seeds)}
    by_champions = {}
    for result in results:
        by_champions.setdefault(frozenset(result.champions), {})[result.match_id] = result
    winners = []
    for slot in slots:
        if len(slot) == 1:
            winners.append(slot[0])
            continue
        matches = list(by_champions.get(frozenset(slot), {}).values())
        failed = [result.match_id for result in matches if result.failed]
        if failed:
            raise RoundNotFinished(reasons.reason("slot_match_failed", match=failed[0],
                                                  first=slot[0], second=slot[1]))
        if len(matches) < matches_per_slot:
            raise RoundNotFinished(reasons.reason("slot_unfinished", finished=len(matches),
                                                  wanted=matches_per_slot, first=slot[0],
                                                  second=slot[1]))
        totals = {champion: [0, 0] for champion in slot}
        for result in matches:
            points = result.points()
            for champion, score in result.players:
                totals[champion][0] += points[champion]
                totals[champion][1] += score
        winners.append(max(slot, key=lambda c: (*totals[c], -seed_of[c])))
    next_slots = tuple(tuple(winners[i:i + 2]) for i in range(0, len(winners), 2))
    return Advance(tuple(winners), next_slots if len(winners) > 1 else ())


@dataclass(frozen=True)
class Bracket:
    """A single elimination tournament as far as its results go."""

    # The slots of every round reached, the first round first.
    rounds: tuple[tuple[tuple[int, ...], ...], ...]
    # The winners of every decided round.
    winners: tuple[tuple[int, ...], ...]

    @property
    def champion(self):
        """The tournament's winner, None until the final is decided."""
        if self.winners and len(self.winners[-1]) == 1:
            return self.winners[-1][0]
        return None

    @property
    def current(self):
        """The slots of the round being played, None once the final is decided."""
        return None if self.champion is not None else self.rounds[-1]

    def ranks(self):
        """{champion: final place} for the winner and every eliminated champion.

        Ex aequo by the round lost: 1 the winner, 2 the finalist, 3 both
        semi-final losers, 5 the four quarter-final losers, and so on.
        """
        nb_rounds = len(self.rounds[0]).bit_length()
        ranks = {}
        # The round being played, if any, has no winners yet: zip stops before it.
        decided = zip(self.rounds, self.winners, strict=False)
        for index, (slots, winners) in enumerate(decided):
            for champion in (c for slot in slots for c in slot if c not in winners):
                ranks[champion] = 2 ** (nb_rounds - 1 - index) + 1
        if self.champion is not None:
            ranks[self.champion] = 1
        return ranks


def elimination_bracket(seeds: Sequence[int], results: Iterable[MatchResult],
                        matches_per_slot: int = 1) -> Bracket:
    """Replay a single elimination tournament from its seeds and every match so far.

    Rounds are decided while they can be (see `elimination_advance`); the
    last round of the Bracket is the one to play (or being played).
    """
    results = list(results)
    slots = tuple(elimination_first_round(seeds))
    rounds, winners = [slots], []
    while True:
        try:
            advance = elimination_advance(slots, results, seeds, matches_per_slot)
        except RoundNotFinished:
            break
        winners.append(advance.winners)
        if not advance.next_slots:
            break
        slots = advance.next_slots
        rounds.append(slots)
    return Bracket(tuple(rounds), tuple(winners))
