"""Calls from the worker to the master: the heartbeat and the results.

The master may be restarting at any moment. The heartbeat keeps beating
through an outage and says `first` until one beat got through; results are
retried with backoff for `callback_retry_secs`, so that a finished match is
not lost while the master restarts. An outage is logged once when it starts
and once when it ends, not once per failed call.
"""

import logging
import time
import xmlrpc.client

import gevent

from stechec.common.rpc import RPCClient, server_url

logger = logging.getLogger(__name__)

FIRST_RETRY_SECS = 0.5
MAX_RETRY_SECS = 15.0


class MasterLink:
    def __init__(self, config, identity):
        master = config["master"]
        self.url = server_url(master["host"], master["port"])
        self.client = RPCClient(self.url, master["shared_secret"],
                                timeout=master["rpc_timeout_secs"])
        self.heartbeat_secs = master["heartbeat_secs"]
        self.retry_secs = master["callback_retry_secs"]
        # A callable returning [hostname, port, free_slots, max_slots] and the running refs.
        self.identity = identity
        self.first = True
        self._down_since = None

    def beat_forever(self):
        while True:
            self.beat()
            gevent.sleep(self.heartbeat_secs)

    def beat(self):
        worker, running = self.identity()
        try:
            self.client.heartbeat(worker, self.first, running)
        except xmlrpc.client.Fault as e:
            logger.error("heartbeat refused by the master: %s", e.faultString)
            return False
        except (OSError, xmlrpc.client.ProtocolError) as e:
            self._unreachable(e)
            return False
        self._reachable()
        if self.first:
            logger.info("registered with the master at %s (%d slots)", self.url, worker[3])
        self.first = False
        return True

    def deliver(self, what, method, *args):
        """Call `method` until the master answers or `callback_retry_secs` ran out."""
        deadline = time.monotonic() + self.retry_secs
        delay = FIRST_RETRY_SECS
        while True:
            try:
                applied = self.client.call(method, *args)
            except xmlrpc.client.Fault as e:
                logger.error("%s: the master refused %s: %s", what, method, e.faultString)
                return False
            except (OSError, xmlrpc.client.ProtocolError) as e:
                self._unreachable(e)
                if time.monotonic() + delay > deadline:
                    logger.error("%s: result lost: the master stayed unreachable for %.0f s",
                                 what, self.retry_secs)
                    return False
                gevent.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_SECS)
                continue
            self._reachable()
            if applied:
                logger.info("%s: result delivered", what)
            else:
                logger.warning("%s: the master dropped the result (stale attempt or "
                               "finished task)", what)
            return True

    def _unreachable(self, error):
        # The pooled keep-alive connections went to a master that is gone.
        self.client.close()
        if self._down_since is None:
            self._down_since = time.monotonic()
            logger.warning("the master at %s cannot be reached (%s); retrying", self.url,
                           str(error) or type(error).__name__)

    def _reachable(self):
        if self._down_since is not None:
            logger.info("the master at %s is back after %.0f s", self.url,
                        time.monotonic() - self._down_since)
            self._down_since = None
