"""Lists of matches as the site's pages and the API show them: the matches with what a
row shows of them, read in few queries."""

from typing import NamedTuple

from stechec.contest import champion_ratings
from stechec.contest.models import Match, MatchPlayer


class PlayerRow(NamedTuple):
    champion_id: int
    champion_name: str
    author_name: str
    score: int | None


def listed_matches():
    """Matches with what a list row shows of them; see with_players() for their players."""
    return Match.objects.select_related("author", "map", "tournament").defer(
        "options", "map__contents", "author__password", "author__email",
        "author__first_name", "author__last_name")


def with_players(matches):
    """The given matches, each with `player_rows` in seat order, read in one query.

    Plain tuples rather than prefetched models: a page of 50 four-player matches
    would otherwise build 600 model instances, most of the page's time.
    """
    matches = list(matches)
    by_id = {match.pk: match for match in matches}
    for match in matches:
        match.player_rows = []
    players = MatchPlayer.objects.filter(match_id__in=by_id).order_by("id").values_list(
        "match_id", "champion_id", "champion__name", "champion__author__username", "score")
    for match_id, *row in players:
        by_id[match_id].player_rows.append(PlayerRow(*row))
    for match in matches:
        match.friendly = champion_ratings.is_friendly([row.author_name
                                                       for row in match.player_rows])
    return matches


def with_champion(matches, champion_id):
    # A subquery rather than a join: a champion playing itself would list the match twice.
    return matches.filter(id__in=MatchPlayer.objects.filter(champion_id=champion_id)
                          .values("match_id"))
