"""The database watcher: wakes the dispatcher when new work is committed, and the
controls when staff record an action.

On PostgreSQL it LISTENs on a connection of its own (a trigger NOTIFYs when a
champion or match row becomes `new`, migration 0003, and when an operator
action is recorded, migration 0013); psycogreen's wait callback makes the
wait a cooperative one. On SQLite there is nothing to listen to: the
dispatcher's own `poll_secs` timeout is the poll, and the controls' POLL_SECS.
"""

import logging

import gevent
import psycopg2
from gevent.socket import wait_read

from stechec.common.database import NOTIFY_CHANNEL, OPERATIONS_CHANNEL, error_line

logger = logging.getLogger(__name__)

RECONNECT_SECS = 1.0
# A connection that went quiet this long is checked with a query.
IDLE_CHECK_SECS = 30.0


class QueueWatcher:
    def __init__(self, sql, dispatcher, controls):
        self._sql = sql
        self._dispatcher = dispatcher
        self._controls = controls

    def run(self):
        while True:
            try:
                self._listen()
            except psycopg2.Error as e:
                logger.warning("LISTEN %s: connection lost (%s); reconnecting in %.0f s",
                               NOTIFY_CHANNEL, error_line(e), RECONNECT_SECS)
            gevent.sleep(RECONNECT_SECS)

    def _listen(self):
        sql = self._sql
        conn = psycopg2.connect(host=sql["host"], port=sql["port"], user=sql["user"],
                                password=sql["password"], dbname=sql["database"],
                                connect_timeout=10, application_name="master-node LISTEN")
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f"LISTEN {NOTIFY_CHANNEL}; LISTEN {OPERATIONS_CHANNEL}")
            logger.info("listening for new tasks on channel %s, for operator actions on %s",
                        NOTIFY_CHANNEL, OPERATIONS_CHANNEL)
            # Anything committed while no one listened is found by this first look.
            self._dispatcher.wake()
            self._controls.changed()
            while True:
                try:
                    wait_read(conn.fileno(), timeout=IDLE_CHECK_SECS)
                except TimeoutError:
                    with conn.cursor() as cursor:
                        cursor.execute("SELECT 1")
                conn.poll()
                channels = {notify.channel for notify in conn.notifies}
                conn.notifies.clear()
                if NOTIFY_CHANNEL in channels:
                    self._dispatcher.wake()
                if OPERATIONS_CHANNEL in channels:
                    self._controls.changed()
        finally:
            conn.close()
