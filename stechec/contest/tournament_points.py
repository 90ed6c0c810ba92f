"""Tournament points in the database: added as a match's result is applied, taken back on a rerun.

The master adds them in the transaction that applies the result
(transitions.apply_match_result), so a result applied once counts once;
`standings.py` holds the rule (a win 2, a draw 1 each).
"""

from django.db.models import F

from stechec.contest import standings
from stechec.contest.models import Match, MatchPlayer, TournamentPlayer


def add_points(tournament_id, players):
    """Add a finished match's points to its champions' tournament scores.

    For the master, in the transaction that applies the result: the result
    is applied once, so the points are too.
    """
    _move_points(tournament_id, players, 1)


def remove_points(matches):
    """Take back the points of done tournament matches about to be rerun."""
    for tournament_id, players in _players_by_match(matches):
        _move_points(tournament_id, players, -1)


def _move_points(tournament_id, players, sign):
    """Add (`sign` 1) or take back (-1) the points of a match between `players`."""
    result = standings.MatchResult(0, tuple((p.champion_id, p.score) for p in players))
    for champion, points in result.points().items():
        if points:
            TournamentPlayer.objects.filter(tournament_id=tournament_id, champion_id=champion)\
                .update(score=F("score") + sign * points)


def _players_by_match(matches):
    done = matches.filter(status=Match.Status.DONE, tournament__isnull=False)
    by_match = {}
    for player in MatchPlayer.objects.filter(match__in=done).select_related("match")\
            .order_by("match_id", "id"):
        by_match.setdefault(player.match_id, (player.match.tournament_id, []))[1].append(player)
    return by_match.values()
