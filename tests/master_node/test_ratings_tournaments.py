"""Ratings, tournament rounds and points through the master's real result path.

A real master-node process and simulated workers (score = match player id,
so the later seat wins) run the matches; the database is then read back.
"""

import concurrent.futures
import itertools
import random

from django.contrib.auth.models import User
from django.db import transaction

from stechec.common.rpc import RPCClient
from stechec.contest import champion_ratings, pairing, tournaments
from stechec.contest.models import (
    Champion,
    Match,
    MatchPlayer,
    Priority,
    Tournament,
    TournamentPlayer,
)

from .conftest import SECRET, all_finished, wait_for


def ready_champions(count, prefix="player"):
    return [Champion.objects.create(name=f"champion {i}", status=Champion.Status.READY,
                                    author=User.objects.create_user(f"{prefix}{i}"))
            for i in range(count)]


def snapshot():
    champions = list(Champion.objects.order_by("id").values_list(
        "id", "rating_mu", "rating_sigma", "rating", "rated_games"))
    history = list(MatchPlayer.objects.order_by("id").values_list("id", "rating_mu",
                                                                  "rating_sigma"))
    return champions, history


def test_recomputed_ratings_equal_the_ones_the_master_applied(cluster, player):
    champions = ready_champions(10)
    rng = random.Random(12)
    matches = [Match.launch(rng.sample(champions, rng.choice([2, 2, 3])), author=player)
               for _ in range(80)]
    # A champion playing itself is not rated.
    matches.append(Match.launch([champions[0], champions[0]], author=player))
    cluster.start_master()
    cluster.start_workers("sim", count=3, slots=4, delay=0.05)
    ids = [m.id for m in matches]
    wait_for(lambda: all_finished(Match, ids, "done"), "every match done")

    incremental = snapshot()
    seqs = sorted(Match.objects.exclude(rated_seq=None).values_list("rated_seq", flat=True))
    assert seqs == list(range(1, 81))
    assert Match.objects.get(pk=matches[-1].pk).rated_seq is None
    assert sum(games for *_, games in incremental[0]) == sum(
        Match.objects.get(pk=pk).players.count() for pk in ids[:-1])
    assert len({mu for _, mu, *_ in incremental[0]}) == 10
    with transaction.atomic():
        assert champion_ratings.recompute_in_rated_order() == 80
    assert snapshot() == incremental


def run_tournament(cluster, format, count, maps=(), rounds=0):
    champion_ids = [c.id for c in ready_champions(count, prefix=format)]
    tournament = tournaments.create(f"{format} cup", format, champion_ids, maps,
                                    nb_players=2, rounds=rounds)
    tournaments.launch(tournament)
    cluster.start_master()
    cluster.start_workers("sim", count=2, slots=6)
    wait_for(lambda: Tournament.objects.get(pk=tournament.pk).status == "done",
             f"the {format} tournament to finish")
    assert not Match.objects.filter(tournament=tournament).exclude(status="done").exists()
    return tournament


def matches_by_round(tournament):
    rounds = {}
    for match in Match.objects.filter(tournament=tournament).prefetch_related("players"):
        rounds.setdefault(match.round, []).append(
            [(p.champion_id, p.score) for p in match.players.all()])
    return [rounds[number] for number in sorted(rounds, key=lambda n: n or 0)]


def check_points_counted_once(tournament):
    table = tournaments.compute_standings(tournament)
    stored = dict(TournamentPlayer.objects.filter(tournament=tournament)
                  .values_list("champion_id", "score"))
    assert stored == {row.champion: row.points for row in table.rows}
    return table


def test_round_robin_plays_every_seating_once_and_ranks_by_points(cluster):
    tournament = run_tournament(cluster, "round_robin", 4)
    (played,) = matches_by_round(tournament)
    seatings = sorted(tuple(c for c, _ in match) for match in played)
    ids = sorted(TournamentPlayer.objects.filter(tournament=tournament)
                 .values_list("champion_id", flat=True))
    assert seatings == sorted(itertools.permutations(ids, 2))
    table = check_points_counted_once(tournament)
    # The later seat always wins: every champion wins its 3 matches in seat 2.
    assert [row.points for row in table.rows] == [6, 6, 6, 6]
    assert all(p.rank is not None for p in tournament.players.all())
    assert Match.objects.filter(tournament=tournament, priority=Priority.TOURNAMENT).count() == 12


def test_swiss_plays_its_rounds_without_rematches(cluster):
    tournament = run_tournament(cluster, "swiss", 7, rounds=3)
    rounds = matches_by_round(tournament)
    assert len(rounds) == 3
    pairs = [frozenset(c for c, _ in match) for matches in rounds for match in matches]
    assert len(pairs) == len(set(pairs)) == 9
    for matches in rounds:
        seated = [c for match in matches for c, _ in match]
        assert len(seated) == len(set(seated)) == 6
    table = check_points_counted_once(tournament)
    assert sum(row.byes for row in table.rows) == 3
    assert sum(row.points for row in table.rows) == 2 * 9 + 2 * 3


def test_single_elimination_advances_the_winners(cluster):
    tournament = run_tournament(cluster, "single_elimination", 6)
    seeds = list(TournamentPlayer.objects.filter(tournament=tournament).order_by("seed")
                 .values_list("champion_id", flat=True))
    rounds = matches_by_round(tournament)
    assert [len(matches) for matches in rounds] == [2, 2, 1]
    # Seeds 1 and 2 wait out the first round; then the winners of each match go on.
    expected = pairing.elimination_first_round(seeds)
    for matches in rounds:
        players = {frozenset(c for c, _ in match) for match in matches}
        assert players == {frozenset(slot) for slot in expected if len(slot) == 2}
        winners = {frozenset(slot): slot[0] for slot in expected if len(slot) == 1}
        for match in matches:
            winners[frozenset(c for c, _ in match)] = max(match, key=lambda p: p[1])[0]
        ordered = [winners[frozenset(slot)] for slot in expected]
        expected = [tuple(ordered[i:i + 2]) for i in range(0, len(ordered), 2)]
    ranks = dict(TournamentPlayer.objects.filter(tournament=tournament)
                 .values_list("champion_id", "rank"))
    assert sorted(ranks.values()) == [1, 2, 3, 3, 5, 5]
    assert ranks[expected[0][0]] == 1


def test_a_failed_round_waits_for_its_rerun(cluster):
    champion_ids = [c.id for c in ready_champions(4, prefix="swissfail")]
    tournament = tournaments.create("fragile", "swiss", champion_ids, [], nb_players=2,
                                    rounds=2)
    tournaments.launch(tournament)
    master = cluster.start_master()
    holding = cluster.start_workers("holding", slots=6, hold=True)
    received = wait_for(lambda: len(holding.events("received")) == 2 and
                        holding.events("received"), "the first round to be sent")
    # A failed result not marked retryable, as older workers sent: failed at once.
    client = RPCClient(master.url, SECRET, timeout=30)
    host, port = holding.names[0].split(":")
    for event in received:
        failure = {"status": "failed", "reason": "the game server crashed", "retryable": False,
                   "server_exit": 1, "server_log": "", "players": []}
        assert client.match_done([host, int(port), 6, 6], event["id"], event["attempt"],
                                 failure)
    wait_for(lambda: Tournament.objects.get(pk=tournament.pk).waiting_reason,
             "the tournament to say why it waits")
    assert "rerun it" in Tournament.objects.get(pk=tournament.pk).waiting_reason
    assert tournament.matches.count() == 2
    holding.kill()
    cluster.start_workers("sim", slots=6)
    assert tournaments.rerun_failed(tournament) == 2
    wait_for(lambda: Tournament.objects.get(pk=tournament.pk).status == "done",
             "the tournament to finish after the rerun")
    assert tournament.matches.count() == 4
    check_points_counted_once(tournament)
    assert Tournament.objects.get(pk=tournament.pk).waiting_reason == ""


def test_a_result_delivered_many_times_at_once_counts_and_rates_once(cluster):
    champions = ready_champions(2, prefix="repeated")
    tournament = tournaments.create("repeated", "round_robin", [c.id for c in champions], [],
                                    nb_players=2)
    tournaments.launch(tournament)
    master = cluster.start_master()
    holding = cluster.start_workers("holding", slots=6, hold=True)
    received = wait_for(lambda: len(holding.events("received")) == 2 and
                        holding.events("received"), "both matches to be sent")
    host, port = holding.names[0].split(":")

    def deliver(event):
        match = Match.objects.get(pk=event["id"])
        result = {"status": "done", "reason": "", "retryable": False, "server_exit": 0,
                  "server_log": "", "players": [
                      {"matchplayer_id": p.id, "champion_id": p.champion_id,
                       "score": 1 if p.champion_id == champions[0].id else 0,
                       "nb_timeout": 0, "exit_status": 0, "log": ""}
                      for p in match.players.all()]}
        return RPCClient(master.url, SECRET, timeout=30).match_done(
            [host, int(port), 6, 6], event["id"], event["attempt"], result)

    # A worker retrying a result it thinks lost: 10 copies of each, all at once.
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(deliver, received * 10))
    for event in received:
        assert master.logs().count(f"match {event['id']} attempt 1: done from") == 1
    wait_for(lambda: Tournament.objects.get(pk=tournament.pk).status == "done",
             "the tournament to finish")
    points = dict(TournamentPlayer.objects.filter(tournament=tournament)
                  .values_list("champion_id", "score"))
    assert points == {champions[0].id: 4, champions[1].id: 0}
    check_points_counted_once(tournament)
    assert sorted(Match.objects.values_list("rated_seq", flat=True)) == [1, 2]
    assert set(Champion.objects.values_list("rated_games", flat=True)) == {2}


def test_two_tournaments_progress_together(cluster):
    first = tournaments.create("first", "swiss", [c.id for c in ready_champions(4, "a")], [],
                               nb_players=2, rounds=3)
    second = tournaments.create("second", "single_elimination",
                                [c.id for c in ready_champions(4, "b")], [], nb_players=2)
    tournaments.launch(first)
    tournaments.launch(second)
    cluster.start_master()
    cluster.start_workers("sim", count=2, slots=6, delay=0.1)
    for tournament in (first, second):
        wait_for(lambda t=tournament: Tournament.objects.get(pk=t.pk).status == "done",
                 f"tournament {tournament.name} to finish")
    assert first.matches.count() == 6 and second.matches.count() == 3
    first.refresh_from_db()
    second.refresh_from_db()
    # The bracket moved on while the Swiss tournament was still playing.
    assert second.matches.get(round=1).ts < first.finished_at


def test_rating_farming_with_ones_own_champions_changes_no_rating(cluster, player):
    # Issue #18: 20 wins of a player's champion over her own crashing champion took it
    # to the top of the leaderboard. Only matches between different players are rated.
    alice, bob = User.objects.create_user("farmer"), User.objects.create_user("rival")
    good, crashing = (Champion.objects.create(name=name, status=Champion.Status.READY,
                                              author=alice) for name in ("good", "crashing"))
    rival = Champion.objects.create(name="rival", status=Champion.Status.READY, author=bob)
    friendlies = [Match.launch([crashing, good], author=alice) for _ in range(20)]
    before = snapshot()
    cluster.start_master()
    cluster.start_workers("sim", count=2, slots=4)
    wait_for(lambda: all_finished(Match, [m.id for m in friendlies], "done"),
             "every friendly done")

    assert snapshot() == before, "no rating, no rated game, no history changed"
    assert not Match.objects.filter(pk__in=[m.id for m in friendlies],
                                    rated_seq__isnull=False).exists()
    rated = Match.launch([rival, good], author=bob)
    wait_for(lambda: all_finished(Match, [rated.id], "done"), "the rated match done")
    assert Match.objects.get(pk=rated.pk).rated_seq == 1
    assert {c.name: c.rated_games for c in Champion.objects.all()} == {
        "good": 1, "crashing": 0, "rival": 1}
    incremental = snapshot()
    with transaction.atomic():
        assert champion_ratings.recompute_in_rated_order() == 1
    assert snapshot() == incremental
