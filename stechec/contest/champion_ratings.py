"""Champion ratings in the database: applied by the master, replayed by a command.

`ratings.py` holds the rules; this module stores them. A rating is applied
in exactly one place, the master's transaction that applies a finished
match's result (`transitions.apply_match_result`), after taking the ratings lock and
locking the match's champions. Each application numbers the match
(`Match.rated_seq`, the previous largest plus one, under the lock), and
`recompute_in_rated_order` replays matches in that order, so that recomputing
gives exactly what the master applied one match at a time. See docs/tournaments.md.
"""

import itertools

from django.db import connection
from django.db.models import Max
from django.utils import timezone

from stechec.contest import ratings
from stechec.contest.models import Champion, Match, MatchPlayer
from stechec.contest.ratings import Rating
from stechec.contest.standings import MatchResult

# Key of the PostgreSQL advisory lock held while ratings change.
RATINGS_LOCK = 0x5743_7261_7469


def lock():
    """Hold the ratings lock until the current transaction ends.

    On PostgreSQL an advisory lock: transactions applying results (the
    master's database greenlets) and a recompute take turns, so rated_seq
    numbers are unique and ratings move one match at a time. Taken before
    any row lock, in every such transaction, so it cannot deadlock. SQLite
    lets one writer at a time in anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RATINGS_LOCK])


def rate_match(match_id, players):
    """Move the ratings of a finished match's champions; true if the match is rated.

    `players` are its MatchPlayers in seat order, scores set. Run inside the
    transaction that marked the match done, after `lock()`.
    """
    result = MatchResult(match_id, tuple((p.champion_id, p.score) for p in players))
    if not ratings.is_rated(result):
        return False
    champions = lock_for_rating(result.champions)
    if is_friendly([c.author_id for c in champions]):
        return False
    after = ratings.update({c.id: Rating(c.rating_mu, c.rating_sigma) for c in champions},
                           result)
    now = timezone.now()
    for champion in champions:
        _set_rating(champion, after[champion.id])
        champion.rated_games += 1
        champion.rated_at = now
    Champion.objects.bulk_update(champions, ["rating_mu", "rating_sigma", "rating",
                                             "rated_games", "rated_at"])
    for player in players:
        player.rating_mu, player.rating_sigma = (after[player.champion_id].mu,
                                                 after[player.champion_id].sigma)
    MatchPlayer.objects.bulk_update(players, ["rating_mu", "rating_sigma"])
    seq = (Match.objects.aggregate(Max("rated_seq"))["rated_seq__max"] or 0) + 1
    Match.objects.filter(pk=match_id).update(rated_seq=seq)
    return True


def lock_for_rating(ids):
    """The champions `ids` (None: all of them), locked until the transaction ends, in id
    order.

    FOR NO KEY UPDATE: transactions moving ratings take turns on a champion, but a match
    being created with it meanwhile does not wait for them. Its players' foreign keys take
    key-share locks on their champions (in seat order, at commit), which FOR UPDATE would
    block: a batch of results rating two matches, or a player's match seated (B, A), then
    locked champions in two orders, and PostgreSQL aborted one of the two transactions
    as a deadlock (tests/www/test_lock_order.py).
    """
    champions = Champion.objects.select_for_update(no_key=True).order_by("id")
    return list(champions if ids is None else champions.filter(pk__in=ids))


def is_friendly(author_ids):
    """Whether a match between champions of these authors is a friendly, never rated:
    two of its champions are one player's. Beating one's own champions proves nothing,
    and would let a player farm rating points (issue #18)."""
    return len(set(author_ids)) < len(author_ids)


def _set_rating(champion, rating):
    champion.rating_mu = rating.mu
    champion.rating_sigma = rating.sigma
    champion.rating = rating.display


def recompute_in_rated_order():
    """Replay every rated match in rated_seq order, from initial ratings; how many were replayed.

    Run in one transaction. Champions never rated go back to the initial
    rating; a match rated twice (rerun) counts once, with its final result,
    at its latest place in the order.
    """
    lock()
    rows = (MatchPlayer.objects.filter(match__rated_seq__isnull=False,
                                       match__status=Match.Status.DONE)
            .order_by("match__rated_seq", "id")
            .values_list("match__rated_seq", "match__finished_at", "id", "champion_id", "score",
                         "champion__author_id"))
    state = {}
    games = {}
    last_rated = {}
    history = []
    replayed = 0
    for seq, seats in itertools.groupby(rows, key=lambda row: row[0]):
        seats = list(seats)
        result = MatchResult(seq, tuple((champion, score) for _, _, _, champion, score, _
                                        in seats))
        if not ratings.is_rated(result) or is_friendly([seat[5] for seat in seats]):
            continue
        replayed += 1
        state = ratings.update(state, result)
        for _, finished_at, player_id, champion, _, _ in seats:
            games[champion] = games.get(champion, 0) + 1
            last_rated[champion] = finished_at
            history.append(MatchPlayer(id=player_id, rating_mu=state[champion].mu,
                                       rating_sigma=state[champion].sigma))
    champions = lock_for_rating(None)
    for champion in champions:
        current = state.get(champion.id, Rating())
        _set_rating(champion, current)
        champion.rated_games = games.get(champion.id, 0)
        champion.rated_at = last_rated.get(champion.id)
    Champion.objects.bulk_update(champions, ["rating_mu", "rating_sigma", "rating",
                                             "rated_games", "rated_at"], batch_size=500)
    MatchPlayer.objects.filter(rating_mu__isnull=False).update(rating_mu=None, rating_sigma=None)
    MatchPlayer.objects.bulk_update(history, ["rating_mu", "rating_sigma"], batch_size=500)
    return replayed

