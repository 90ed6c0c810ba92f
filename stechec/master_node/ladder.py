"""The ladder: keeps `ladder.matches_in_flight` ranked matches going at background priority.

One greenlet, when `ladder.enabled`. Every `dispatch.poll_secs` it tops the
ladder up on a database greenlet: nothing while a match a player launched
is waiting; otherwise the matches `contest.ladder.choose_matches` picks
among each player's latest ready champion (placement games of new champions
first, then the longest wait, opponents close in rating). Ratings move when
the results come back, like any match.
"""

import logging
import os
import time

import gevent

from stechec.www.contest import ladder
from stechec.www.contest.models import Champion, Map, Match, MatchPlayer, Priority

logger = logging.getLogger(__name__)


class Ladder:
    def __init__(self, database, dispatcher, config):
        self._db = database
        self._dispatcher = dispatcher
        self._period = config["dispatch"]["poll_secs"]
        self._quota = config["ladder"]["matches_in_flight"]
        self._nb_players = config["ladder"]["nb_players"]
        # Each top-up draws from its own seed.
        self._seed = f"{os.getpid()}/{time.time()}"
        self._top_ups = 0

    def run(self):
        logger.info("ladder: keeping %d ranked matches of %d players in flight", self._quota,
                    self._nb_players)
        while True:
            try:
                if self._db.call(self.top_up):
                    self._dispatcher.wake()
            except Exception:
                logger.exception("ladder: topping up failed; trying again in %.1f s",
                                 self._period)
            gevent.sleep(self._period)

    def top_up(self):
        """On a database greenlet: create the ladder's next matches; how many."""
        self._top_ups += 1
        waiting = Match.objects.filter(status=Match.Status.NEW,
                                       priority__gte=Priority.PLAYER).count()
        if waiting:
            logger.debug("ladder: top-up %d: nothing while %d player matches wait",
                         self._top_ups, waiting)
            return 0
        in_flight = {}
        for match_id, champion in MatchPlayer.objects.filter(
                match__ladder=True, match__status__in=Match.IN_FLIGHT)\
                .values_list("match_id", "champion_id"):
            in_flight.setdefault(match_id, []).append(champion)
        if len(in_flight) >= self._quota:
            logger.debug("ladder: top-up %d: %d in flight, the quota", self._top_ups,
                         len(in_flight))
            return 0
        candidates = [
            ladder.Candidate(pk, mu, games, (rated_at or ts).timestamp())
            for pk, mu, games, rated_at, ts in Champion.objects.latest_ready()
            .values_list("pk", "rating_mu", "rated_games", "rated_at", "ts")]
        maps = list(Map.objects.filter(official=True).values_list("pk", flat=True))
        pairings = ladder.choose_matches(
            candidates, in_flight.values(), quota=self._quota, nb_players=self._nb_players,
            seed=f"{self._seed}/{self._top_ups}", maps=maps, player_matches_waiting=waiting)
        matches = Match.launch_many(pairings, priority=Priority.BACKGROUND, ladder=True)
        logger.debug("ladder: top-up %d: %d in flight, %d more", self._top_ups, len(in_flight),
                     len(matches))
        for match, pairing in zip(matches, pairings, strict=True):
            logger.info("ladder: match %d between champions %s", match.id,
                        ", ".join(map(str, pairing.champions)))
        return len(matches)
