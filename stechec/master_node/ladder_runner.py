"""The ladder runner: keeps `ladder.matches_in_flight` ranked matches going at background priority.

One greenlet, when `ladder.enabled`. Every `dispatch.poll_secs` it tops the
ladder up on a database greenlet (stechec.contest.ladder.top_up: nothing
while a match a player launched is waiting; otherwise placement games of
new champions first, then the longest wait, opponents close in rating).
"""

import logging
import os
import time

import gevent

from stechec.contest import ladder

logger = logging.getLogger(__name__)


class LadderRunner:
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
        return ladder.top_up(quota=self._quota, nb_players=self._nb_players,
                             seed=f"{self._seed}/{self._top_ups}", number=self._top_ups)
