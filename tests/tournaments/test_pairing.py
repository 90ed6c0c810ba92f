"""Tournament formats: round robin, Swiss and single elimination."""

import itertools
import math
import random

import pytest

from stechec.contest import pairing
from stechec.contest.pairing import Pairing
from stechec.contest.standings import MatchResult


@pytest.mark.parametrize(("nb_champions", "nb_players", "maps"), [
    (2, 2, []), (5, 2, [7]), (6, 2, [7, 8, 9]), (4, 4, []), (6, 3, [7, 8]), (7, 4, [1]),
])
def test_round_robin_makes_every_seat_order_of_every_group_on_every_map_once(
        nb_champions, nb_players, maps):
    champions = [10 * i + 3 for i in range(nb_champions)]
    pairings = pairing.round_robin(champions, nb_players, maps)

    expected = math.comb(nb_champions, nb_players) * math.factorial(nb_players) * max(len(maps), 1)
    assert len(pairings) == expected
    assert pairing.round_robin_size(nb_champions, nb_players, len(maps)) == expected
    assert len(set(pairings)) == len(pairings)
    assert set(pairings) == {
        Pairing(seats, map_id)
        for group in itertools.combinations(champions, nb_players)
        for seats in itertools.permutations(group)
        for map_id in (maps or [None])}


@pytest.mark.parametrize(("champions", "nb_players", "message"), [
    ([1, 2, 2], 2, "champion 2 is entered twice"),
    ([1, 2], 3, "needs at least 3 champions, not 2"),
    ([1, 2], 1, "a match needs at least 2 players, not 1"),
])
def test_round_robin_rejects_bad_entries(champions, nb_players, message):
    with pytest.raises(ValueError, match=message):
        pairing.round_robin(champions, nb_players)


def test_two_player_formats_refuse_more_players_in_one_sentence():
    pairing.check_format(pairing.ROUND_ROBIN, 4)
    pairing.check_format(pairing.SWISS, 2)
    with pytest.raises(ValueError, match="swiss tournaments pair champions two by two; "
                                         "this game has 4 players per match: use round robin"):
        pairing.check_format(pairing.SWISS, 4)
    with pytest.raises(ValueError, match="single elimination tournaments pair"):
        pairing.check_format(pairing.SINGLE_ELIMINATION, 3)
    with pytest.raises(ValueError, match="unknown tournament format 'league'"):
        pairing.check_format("league", 2)


def brute_force_matching_size(graph):
    def best(remaining):
        if not remaining:
            return 0
        first, rest = remaining[0], remaining[1:]
        result = best(rest)
        for other in rest:
            if other in graph[first]:
                result = max(result, 1 + best([v for v in rest if v != other]))
        return result
    return best(list(range(len(graph))))


def test_maximum_matching_agrees_with_brute_force_on_random_graphs():
    rng = random.Random(4)
    for _ in range(300):
        size = rng.randint(1, 11)
        density = rng.random()
        graph = [set() for _ in range(size)]
        for a, b in itertools.combinations(range(size), 2):
            if rng.random() < density:
                graph[a].add(b)
                graph[b].add(a)
        mate = pairing.maximum_matching([sorted(neighbours) for neighbours in graph])
        for v, w in enumerate(mate):
            if w != -1:
                assert mate[w] == v and w in graph[v]
        assert sum(w != -1 for w in mate) // 2 == brute_force_matching_size(graph)


def no_rematch_pairing_exists(champions, met, with_bye):
    vertices = list(champions) + (["bye"] if with_bye else [])

    def pairable(remaining):
        if not remaining:
            return True
        first, rest = remaining[0], remaining[1:]
        return any(frozenset((first, other)) not in met
                   and pairable([v for v in rest if v != other]) for other in rest)
    return pairable(vertices)


def play_swiss(champions, nb_rounds, seed, search_budget=pairing.SWISS_SEARCH_BUDGET):
    """Play a Swiss tournament with random scores; yield each round and who met before it."""
    rng = random.Random(seed)
    rounds, met, next_id = [], set(), 1
    for _ in range(nb_rounds):
        round_ = pairing.swiss_next_round(champions, rounds, seed=seed,
                                          search_budget=search_budget)
        yield round_, set(met)
        played = []
        for match in round_.pairings:
            played.append(MatchResult(next_id, tuple((c, rng.randint(0, 3))
                                                     for c in match.champions)))
            next_id += 1
            met.add(frozenset(match.champions))
        met.update(frozenset((c, "bye")) for c in round_.byes)
        rounds.append(played)


@pytest.mark.parametrize(("nb_champions", "seed", "search_budget"), [
    (8, 1, pairing.SWISS_SEARCH_BUDGET), (8, 2, pairing.SWISS_SEARCH_BUDGET),
    (7, 3, pairing.SWISS_SEARCH_BUDGET), (9, 4, pairing.SWISS_SEARCH_BUDGET),
    # A budget of one step forces the blossom fallback from the first round.
    (8, 5, 1), (9, 6, 1),
])
def test_swiss_avoids_rematches_and_second_byes_whenever_possible(nb_champions, seed,
                                                                   search_budget):
    champions = list(range(1, nb_champions + 1))
    rounds_with_rematch = 0
    for round_, met in play_swiss(champions, nb_champions + 2, seed, search_budget):
        seated = [c for p in round_.pairings for c in p.champions] + list(round_.byes)
        assert sorted(seated) == champions
        assert len(round_.byes) == nb_champions % 2
        meetings = [frozenset(p.champions) for p in round_.pairings]
        meetings += [frozenset((c, "bye")) for c in round_.byes]
        rematches = [m for m in meetings if m in met]
        if no_rematch_pairing_exists(champions, met, nb_champions % 2):
            assert rematches == []
        else:
            rounds_with_rematch += 1
            assert rematches
    # Everyone met everyone (and every champion had a bye) before the last rounds.
    assert rounds_with_rematch >= 2


def test_swiss_pairs_neighbours_in_the_standings_and_gives_the_bye_to_the_lowest():
    points = {c: 10 * c for c in range(1, 10)}
    round_ = pairing.swiss_round(points, seed=0)
    assert [set(p.champions) for p in round_.pairings] == [{9, 8}, {7, 6}, {5, 4}, {3, 2}]
    assert round_.byes == (1,)
    round_ = pairing.swiss_round(points, [(9, 8)], past_byes=[1], seed=0)
    assert [set(p.champions) for p in round_.pairings] == [{9, 7}, {8, 6}, {5, 4}, {3, 1}]
    assert round_.byes == (2,)


def test_swiss_next_round_counts_byes_and_waits_for_failed_matches():
    champions = [1, 2, 3]
    first = [MatchResult(1, ((1, 5), (2, 0)))]
    assert pairing.swiss_byes(champions, [first]) == {3: 1}
    second = pairing.swiss_next_round(champions, [first], seed="s")
    # 1 and 3 lead with 2 points (a win, a bye); 3 had its bye and 1 met 2: 1 plays 3.
    assert [set(p.champions) for p in second.pairings] == [{1, 3}]
    assert second.byes == (2,)
    failed = [MatchResult(2, ((1, None), (3, None)), failed=True)]
    with pytest.raises(pairing.RoundNotFinished, match="match 2 failed: rerun it"):
        pairing.swiss_next_round(champions, [first, failed], seed="s")


def test_swiss_winners_meet_winners():
    points = {1: 2, 2: 2, 3: 2, 4: 2, 5: 0, 6: 0, 7: 0, 8: 0}
    round_ = pairing.swiss_round(points, [(1, 5), (2, 6), (3, 7), (4, 8)], seed=0)
    for match in round_.pairings:
        a, b = match.champions
        assert points[a] == points[b]


def test_swiss_is_deterministic_given_its_seed():
    points = {c: c % 3 for c in range(1, 13)}
    past = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12)]
    same = [pairing.swiss_round(points, past, seed="t1/2", maps=[1, 2]) for _ in range(3)]
    assert same[0] == same[1] == same[2]
    others = {pairing.swiss_round(points, past, seed=f"t{n}/2", maps=[1, 2])
              for n in range(10)}
    assert len(others) > 1


def test_swiss_plays_every_map_with_seats_alternating():
    round_ = pairing.swiss_round({1: 0, 2: 0}, seed=0, maps=[5, 6, 7])
    assert [p.map for p in round_.pairings] == [5, 6, 7]
    seats = [p.champions for p in round_.pairings]
    assert seats[0] == seats[2] == tuple(reversed(seats[1]))


def test_swiss_rematches_only_when_everyone_met():
    met = list(itertools.combinations([1, 2, 3, 4], 2))
    round_ = pairing.swiss_round({1: 6, 2: 4, 3: 2, 4: 0}, met + [(1, 2)], seed=0)
    assert len(round_.pairings) == 2
    # 1 and 2 met twice already: they are the pair to avoid.
    assert frozenset((1, 2)) not in {frozenset(p.champions) for p in round_.pairings}


def test_bracket_seeds_meet_as_in_a_standard_bracket():
    assert pairing.bracket_positions(8) == [1, 8, 4, 5, 2, 7, 3, 6]
    positions = pairing.bracket_positions(16)
    assert sorted(positions) == list(range(1, 17))
    first_round = [positions[i:i + 2] for i in range(0, 16, 2)]
    assert all(a + b == 17 for a, b in first_round)
    # 1 and 2 are in different halves, 1-4 and 2-3 in different quarters.
    assert 1 in positions[:8] and 2 in positions[8:]
    quarters = [set(positions[i:i + 4]) for i in range(0, 16, 4)]
    assert [sorted(q & {1, 2, 3, 4}) for q in quarters] == [[1], [4], [2], [3]]


def play_elimination(ratings, strength, maps=()):
    """Run a whole bracket where the stronger champion scores more; return the rounds' slots.

    After every match, the bracket replayed from all results so far agrees.
    """
    seeds = pairing.seed_order(ratings)
    per_slot = max(len(maps), 1)
    slots = tuple(pairing.elimination_first_round(seeds))
    rounds = [list(slots)]
    results = []
    while slots:
        round_ = pairing.slot_pairings(slots, maps)
        assert set(round_.byes) == {slot[0] for slot in slots if len(slot) == 1}
        for match in round_.pairings:
            bracket = pairing.elimination_bracket(seeds, results, per_slot)
            assert bracket.current == slots and bracket.champion is None
            results.append(MatchResult(len(results) + 1,
                                       tuple((c, strength[c]) for c in match.champions)))
        advance = pairing.elimination_advance(slots, results, seeds, per_slot)
        slots = advance.next_slots
        rounds.append(advance.winners)
        if slots:
            rounds.append(slots)
    bracket = pairing.elimination_bracket(seeds, results, per_slot)
    assert bracket.current is None and bracket.champion == rounds[-1][0]
    return rounds, bracket.ranks()


# Champions are named by seed (rating order) as 101..108; strength scripts the upsets.
RATINGS = {100 + seed: 50.0 - seed for seed in range(1, 9)}


def test_eight_player_bracket_advances_the_winners():
    strength = {101: 1, 108: 5, 104: 7, 105: 3, 102: 2, 107: 4, 103: 9, 106: 6}
    rounds, ranks = play_elimination(RATINGS, strength, maps=[1, 2])
    assert ranks == {103: 1, 104: 2, 108: 3, 107: 3, 101: 5, 105: 5, 102: 5, 106: 5}
    assert rounds == [
        [(101, 108), (104, 105), (102, 107), (103, 106)],
        (108, 104, 107, 103),
        ((108, 104), (107, 103)),
        (104, 103),
        ((104, 103),),
        (103,),
    ]


def test_six_player_bracket_gives_byes_to_the_top_two_seeds():
    ratings = {c: r for c, r in RATINGS.items() if c <= 106}
    strength = {101: 3, 102: 8, 103: 1, 104: 2, 105: 6, 106: 5}
    rounds, ranks = play_elimination(ratings, strength)
    assert ranks == {102: 1, 105: 2, 101: 3, 106: 3, 104: 5, 103: 5}
    assert rounds == [
        [(101,), (104, 105), (102,), (103, 106)],
        (101, 105, 102, 106),
        ((101, 105), (102, 106)),
        (105, 102),
        ((105, 102),),
        (102,),
    ]


def test_five_player_bracket():
    ratings = {c: r for c, r in RATINGS.items() if c <= 105}
    strength = {101: 9, 102: 1, 103: 2, 104: 3, 105: 4}
    rounds, ranks = play_elimination(ratings, strength, maps=[3])
    assert ranks == {101: 1, 103: 2, 105: 3, 102: 3, 104: 5}
    assert rounds == [
        [(101,), (104, 105), (102,), (103,)],
        (101, 105, 102, 103),
        ((101, 105), (102, 103)),
        (101, 103),
        ((101, 103),),
        (101,),
    ]


def test_elimination_draws_go_to_the_higher_cumulative_score_then_the_better_seed():
    seeds = [1, 2, 3, 4]
    slots = pairing.elimination_first_round(seeds)
    assert slots == [(1, 4), (2, 3)]
    results = [
        # 1 and 4 win a map each: 4 scored more in total.
        MatchResult(1, ((1, 10), (4, 0))), MatchResult(2, ((4, 30), (1, 5))),
        # 2 and 3 draw both maps with equal scores: the better seed (2) goes on.
        MatchResult(3, ((2, 3), (3, 3))), MatchResult(4, ((3, 1), (2, 1))),
    ]
    advance = pairing.elimination_advance(slots, results, seeds)
    assert advance.winners == (4, 2)
    assert advance.next_slots == ((4, 2),)


def test_elimination_waits_for_missing_and_failed_matches():
    seeds = [1, 2, 3, 4]
    slots = pairing.elimination_first_round(seeds)
    done = MatchResult(1, ((1, 1), (4, 0)))
    with pytest.raises(pairing.RoundNotFinished,
                       match="0 of 1 matches between champions 2 and 3 have finished"):
        pairing.elimination_advance(slots, [done], seeds)
    with pytest.raises(pairing.RoundNotFinished,
                       match="1 of 2 matches between champions 1 and 4 have finished"):
        pairing.elimination_advance(slots, [done], seeds, matches_per_slot=2)
    failed = MatchResult(2, ((2, None), (3, None)), failed=True)
    with pytest.raises(pairing.RoundNotFinished,
                       match="match 2 between champions 2 and 3 failed: rerun it"):
        pairing.elimination_advance(slots, [done, failed], seeds)


def test_two_player_bracket_and_a_round_in_progress():
    bracket = pairing.elimination_bracket([7, 3], [])
    assert (bracket.current, bracket.champion, bracket.ranks()) == (((7, 3),), None, {})
    bracket = pairing.elimination_bracket([7, 3], [MatchResult(1, ((3, 1), (7, 0)))])
    assert (bracket.current, bracket.champion, bracket.ranks()) == (None, 3, {3: 1, 7: 2})
    seeds = [1, 2, 3, 4]
    half_done = [MatchResult(1, ((1, 1), (4, 0))), MatchResult(2, ((2, 1), (3, 0))),
                 MatchResult(3, ((2, None), (1, None)), failed=True)]
    bracket = pairing.elimination_bracket(seeds, half_done)
    assert bracket.rounds == (((1, 4), (2, 3)), ((1, 2),))
    assert bracket.current == ((1, 2),)
    assert bracket.ranks() == {4: 3, 3: 3}


def test_seed_order_is_by_rating_then_id():
    assert pairing.seed_order({5: 1.0, 3: 2.0, 4: 1.0, 9: -1.0}) == [3, 4, 5, 9]
