"""What staff asked of the master (stechec.contest.operations): it obeys here.

It reads the recorded state when it starts (a paused contest stays paused
through a restart), then again whenever an action is recorded: on PostgreSQL
the watcher wakes it on the action's NOTIFY, on SQLite it looks every
POLL_SECS. It pauses or resumes the dispatcher, marks drained workers (the
dispatcher places nothing there), and stops a cancelled match on its
worker; the database already holds the match's end.
"""

import logging

import gevent
from gevent.event import Event

from stechec.common.tasks import Kind
from stechec.contest import operations

logger = logging.getLogger(__name__)

# How often it reads the actions when nothing wakes it: on SQLite, under the
# second staff are promised; on PostgreSQL, a safety net should a NOTIFY be lost.
POLL_SECS = {"sqlite": 0.5, "postgresql": 30.0}


class Controls:
    def __init__(self, database, registry, dispatcher, engine):
        self._db = database
        self._registry = registry
        self._dispatcher = dispatcher
        self._poll_secs = POLL_SECS[engine]
        self._changed = Event()
        self.state = operations.State()

    def load(self):
        """Read the state before the dispatcher starts (the matches cancelled so far are
        not running: every attempt was put back in the queue)."""
        state, _ = self._db.call(operations.read)
        self._apply(state, [])

    def changed(self):
        self._changed.set()

    def run(self):
        while True:
            self._changed.wait(self._poll_secs)
            self._changed.clear()
            try:
                state, cancelled = self._db.call(operations.read, self.state.last_id)
            except Exception:
                logger.exception("reading the operator actions failed")
                gevent.sleep(self._poll_secs)
                continue
            if state is not None:
                self._apply(state, cancelled)

    def _apply(self, state, cancelled):
        if state is None:
            return
        old, self.state = self.state, state
        if state.paused != old.paused:
            logger.warning("dispatching %s by staff", "paused" if state.paused else "resumed")
        for name in sorted(state.drained - old.drained):
            logger.warning("worker %s drained by staff: no new task goes there", name)
        for name in sorted(old.drained - state.drained):
            logger.info("worker %s undrained by staff: it takes tasks again", name)
        self._dispatcher.paused = state.paused
        self._registry.drain(state.drained)
        for match_id in cancelled:
            self._cancel(match_id)
        # Resumed, or a worker back: the queue is worth a look.
        self._dispatcher.wake()

    def _cancel(self, match_id):
        assignment = self._registry.assignments.get((Kind.MATCH, match_id))
        if assignment is None:
            logger.info("match %d cancelled by staff (it was not running)", match_id)
            return
        logger.warning("%s: cancelled by staff; stopping it on %s", assignment,
                       assignment.worker.name)
        self._registry.release(assignment)
        gevent.spawn(self._dispatcher.cancel, assignment)
