"""Tournament standings: points per match, ranks with ex-aequo, the matrix, CSV.

Plain Python over plain data, so that the site, the master and the commands
compute the same thing and the tests need no database. See docs/tournaments.md.

Points per match, for any number of players: the best score gets WIN_POINTS;
when several players share the best score, each of them gets DRAW_POINTS
instead; every other player gets LOSS_POINTS. With two players that is the
original "a win 2, a draw 1 each".
"""

import csv
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

WIN_POINTS = 2
DRAW_POINTS = 1
LOSS_POINTS = 0


@dataclass(frozen=True)
class MatchResult:
    """One match as far as tournaments and ratings care.

    `players` holds (champion id, score) in seat order; a failed match carries
    no meaningful scores and counts for nothing.
    """

    match_id: int
    players: tuple[tuple[int, int | None], ...]
    failed: bool = False

    def __post_init__(self):
        if len(self.players) < 2:
            raise ValueError(f"match {self.match_id}: a match needs at least 2 players, "
                             f"got {len(self.players)}")
        if not self.failed and any(score is None for _, score in self.players):
            raise ValueError(f"match {self.match_id}: a finished match has a player "
                             "without a score")

    @property
    def champions(self):
        return tuple(champion for champion, _ in self.players)

    def points(self):
        """{champion: tournament points} for this match (see the module's docstring)."""
        best = max(score for _, score in self.players)
        nb_best = sum(1 for _, score in self.players if score == best)
        top_points = WIN_POINTS if nb_best == 1 else DRAW_POINTS
        return {champion: top_points if score == best else LOSS_POINTS
                for champion, score in self.players}


def results_from_rows(rows):
    """Group plain rows (match_id, failed, champion_id, score) into MatchResults.

    Rows of one match must come together, in seat order: what one query
    ordered by match id then match player id returns.
    """
    results = []
    for match_id, seats in itertools.groupby(rows, key=lambda row: row[0]):
        seats = list(seats)
        results.append(MatchResult(match_id, tuple((champion, score)
                                                   for _, _, champion, score in seats),
                                   bool(seats[0][1])))
    return results


@dataclass
class Row:
    """One champion's line in the standings."""

    champion: int
    points: int = 0
    score: int = 0
    played: int = 0
    wins: int = 0
    draws: int = 0
    losses: int = 0
    byes: int = 0
    rank: int = 0


@dataclass
class Standings:
    rows: list[Row]
    # (row champion, column champion) -> points the row champion took from
    # the column champion, head to head, over every match they both played.
    matrix: dict[tuple[int, int], int] = field(default_factory=dict)
    # Failed matches: excluded from everything above, listed to be rerun.
    failed: list[int] = field(default_factory=list)

    def champions(self):
        return [row.champion for row in self.rows]


def unique_results(results):
    """The results, each match once; the same match id twice with other contents is an error."""
    by_id = {}
    for result in results:
        known = by_id.setdefault(result.match_id, result)
        if known != result:
            raise ValueError(f"match {result.match_id} is given twice with different results")
    return [by_id[match_id] for match_id in sorted(by_id)]


def compute(champions: Iterable[int], results: Iterable[MatchResult],
            byes: Mapping[int, int] | None = None) -> Standings:
    """Standings of a tournament between `champions`.

    A bye (a Swiss round without an opponent) is worth a win's points and no
    score. Ranks: more points first, then a higher cumulative score (the sum
    of the champion's match scores); champions equal on both share a rank
    (1, 2, 2, 4).
    """
    rows = {champion: Row(champion) for champion in champions}
    matrix = {}
    failed = []
    for result in unique_results(results):
        unknown = [champion for champion in result.champions if champion not in rows]
        if unknown:
            raise ValueError(f"match {result.match_id}: champion {unknown[0]} is not "
                             "in the tournament")
        if result.failed:
            failed.append(result.match_id)
            continue
        points = result.points()
        for champion, score in result.players:
            row = rows[champion]
            row.points += points[champion]
            row.score += score
            row.played += 1
            if points[champion] == WIN_POINTS:
                row.wins += 1
            elif points[champion] == DRAW_POINTS:
                row.draws += 1
            else:
                row.losses += 1
        for champion, score in result.players:
            for opponent, opponent_score in result.players:
                if champion != opponent:
                    key = (champion, opponent)
                    matrix[key] = matrix.get(key, 0) + head_to_head(score, opponent_score)
    for champion, count in (byes or {}).items():
        if champion not in rows:
            raise ValueError(f"champion {champion} has a bye but is not in the tournament")
        rows[champion].byes += count
        rows[champion].points += count * WIN_POINTS
    ordered = sorted(rows.values(), key=lambda row: (-row.points, -row.score, row.champion))
    for row, rank in zip(ordered, ex_aequo_ranks(ordered, lambda row: (row.points, row.score)),
                         strict=True):
        row.rank = rank
    return Standings(ordered, matrix, failed)


def ex_aequo_ranks(ordered, key):
    """The rank of each of `ordered` (best first): its place from 1, or the rank of the one
    before it when `key` says they are equal (1, 2, 2, 4)."""
    ranks = []
    for position, item in enumerate(ordered):
        tied = position and key(item) == key(ordered[position - 1])
        ranks.append(ranks[-1] if tied else position + 1)
    return ranks


def head_to_head(score, opponent_score):
    if score > opponent_score:
        return WIN_POINTS
    if score == opponent_score:
        return DRAW_POINTS
    return LOSS_POINTS


STANDINGS_COLUMNS = ["rank", "champion_id", "name", "points", "score", "played", "wins",
                     "draws", "losses", "byes"]


def write_csv(standings: Standings, out, names: Mapping[int, str] | None = None):
    """Write the standings to the text stream `out` as CSV, one champion a line.

    `names` labels champions (e.g. "author/champion"); the id is always there.
    """
    names = names or {}
    writer = csv.writer(out)
    writer.writerow(STANDINGS_COLUMNS)
    for row in standings.rows:
        writer.writerow([row.rank, row.champion, names.get(row.champion, ""), row.points,
                         row.score, row.played, row.wins, row.draws, row.losses, row.byes])


def write_matrix_csv(standings: Standings, out, names: Mapping[int, str] | None = None):
    """Write the champion-by-champion matrix as CSV, rows and columns in rank order.

    A cell holds the points the row champion took from the column champion;
    it is empty where they never met.
    """
    names = names or {}
    champions = standings.champions()
    writer = csv.writer(out)
    writer.writerow([""] + [names.get(champion, champion) for champion in champions])
    for champion in champions:
        writer.writerow([names.get(champion, champion)]
                        + [standings.matrix.get((champion, opponent), "")
                           for opponent in champions])
