"""The continuous ladder in the database: creates its next ranked matches at background priority.

`ladder_choice.py` holds the rule; this module reads what it needs and
creates the matches it picks. The master's ladder runner calls `top_up` every
`dispatch.poll_secs` (docs/tournaments.md, "Ladder"). Ratings move when the
results come back, like any match's.
"""

import logging

from stechec.contest import ladder_choice
from stechec.contest.models import Champion, Map, Match, MatchPlayer, Priority

logger = logging.getLogger(__name__)


def top_up(*, quota, nb_players, seed, number):
    """Create the ladder's next matches, inside the caller's transaction; how many.

    Nothing while a match a player launched is waiting; otherwise the
    matches `ladder_choice.choose_matches` picks among each player's latest
    ready champion, up to `quota` ladder matches in flight. `seed` drives its
    random choices; `number` names this top-up in the log.
    """
    waiting = Match.objects.filter(status=Match.Status.NEW,
                                   priority__gte=Priority.PLAYER).count()
    if waiting:
        logger.debug("ladder: top-up %d: nothing while %d player matches wait", number, waiting)
        return 0
    in_flight = {}
    for match_id, champion in MatchPlayer.objects.filter(
            match__ladder=True, match__status__in=Match.IN_FLIGHT)\
            .values_list("match_id", "champion_id"):
        in_flight.setdefault(match_id, []).append(champion)
    if len(in_flight) >= quota:
        logger.debug("ladder: top-up %d: %d in flight, the quota", number, len(in_flight))
        return 0
    champions = [
        ladder_choice.LadderChampion(pk, mu, games, (rated_at or ts).timestamp())
        for pk, mu, games, rated_at, ts in Champion.objects.latest_ready()
        .values_list("pk", "rating_mu", "rated_games", "rated_at", "ts")]
    maps = list(Map.objects.filter(official=True).values_list("pk", flat=True))
    pairings = ladder_choice.choose_matches(
        champions, in_flight.values(), quota=quota, nb_players=nb_players, seed=seed,
        maps=maps, player_matches_waiting=waiting)
    matches = Match.launch_many(pairings, priority=Priority.BACKGROUND, ladder=True)
    logger.debug("ladder: top-up %d: %d in flight, %d more", number, len(in_flight),
                 len(matches))
    for match, pairing in zip(matches, pairings, strict=True):
        logger.info("ladder: match %d between champions %s", match.id,
                    ", ".join(map(str, pairing.champions)))
    return len(matches)
