"""The tournament runner: starts each tournament's next round once its current one is over.

One greenlet. Every `dispatch.poll_secs` it asks the database (on a
database greenlet, one transaction per tournament) for running tournaments
with no match waiting or running, and queues their next Swiss or
elimination round, or closes them with their final ranks. Round robins
queue every match at launch and only need closing. Points are not counted
here: the result's own transaction adds them (docs/tournaments.md).
"""

import logging

import gevent

from stechec.contest import tournaments

logger = logging.getLogger(__name__)


class TournamentRunner:
    def __init__(self, database, dispatcher, config):
        self._db = database
        self._dispatcher = dispatcher
        self._period = config["dispatch"]["poll_secs"]

    def run(self):
        while True:
            try:
                if self._db.call(tournaments.advance_all):
                    self._dispatcher.wake()
            except Exception:
                logger.exception("advancing tournaments failed; trying again in %.1f s",
                                 self._period)
            gevent.sleep(self._period)
