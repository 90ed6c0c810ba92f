"""A tournament's standings and ranks, as its page, its CSV and the API show them."""

from stechec.contest import standings, tournaments
from stechec.contest.models import Tournament, TournamentPlayer


def ranking(players):
    """(rank, player) best first: by points, equal points sharing a rank (1, 2, 2, 4).

    When the tournament runner stored every rank (its own tie-breaks), those win.
    """
    players = list(players)
    if players and all(p.rank is not None for p in players):
        return [(p.rank, p) for p in sorted(players, key=lambda p: (p.rank, -p.score))]
    ordered = sorted(players, key=lambda p: (-p.score, p.champion_id))
    return list(zip(standings.ex_aequo_ranks(ordered, lambda p: p.score), ordered, strict=True))


class Report:
    """What the tournament page and its CSV show, from a handful of queries.

    Finished tournaments show the points and ranks stored when they closed;
    running ones, the standings of the matches finished so far.
    """

    def __init__(self, tournament):
        self.tournament = tournament
        self.players = list(TournamentPlayer.objects.filter(tournament=tournament)
                            .select_related("champion__author__profile"))
        self.maps = list(tournament.maps.all())
        rows = tournaments.seat_rows(tournament)
        champions = sorted(p.champion_id for p in self.players)
        self.standings = tournaments.compute_standings(tournament, champions, rows)
        self.progress = tournaments.progress(tournament, rows, len(champions), len(self.maps))
        self.names = {p.champion_id: f"{p.champion.author.username}/{p.champion.name}"
                      for p in self.players}
        if tournament.status == Tournament.Status.DONE:
            self._use_stored_ranks()

    def _use_stored_ranks(self):
        stored = {rank_player[1].champion_id: rank_player
                  for rank_player in ranking(self.players)}
        for row in self.standings.rows:
            row.rank, player = stored[row.champion]
            row.points = player.score
        self.standings.rows.sort(key=lambda row: (row.rank, -row.points, -row.score,
                                                  row.champion))

    def table(self):
        """(row, player) in rank order."""
        by_champion = {p.champion_id: p for p in self.players}
        return [(row, by_champion[row.champion]) for row in self.standings.rows]

    def matrix(self):
        """(player, [cell, ...]) rows in rank order; a cell is None where they never met."""
        order = [row.champion for row in self.standings.rows]
        by_champion = {p.champion_id: p for p in self.players}
        return [(by_champion[champion],
                 [None if champion == other else self.standings.matrix.get((champion, other))
                  for other in order])
                for champion in order]
