"""The master's database work, on a bounded set of greenlets.

After gevent's patching Django keeps one connection per greenlet, so no
greenlet but these touches the ORM: the others hand them jobs and wait. That
bounds the connections (one on SQLite, whose writers must queue anyway), and
it is the one place where a dropped connection is noticed, logged, reopened
and the job run again. A job runs in one transaction, so a retried job was
either fully committed or not at all; every write the master makes is
conditional on the row's state, so running a committed job twice changes
nothing the second time.

Results arriving together are applied in one transaction (one commit for
many), which is what lets a burst of results keep up with the workers. The
dispatcher's claims go first: a claim waits for a free connection, never
behind a queue of result batches, so that a new task's way to its worker
stays short while results pour in.
"""

import collections
import itertools
import logging

import gevent
from django.db import InterfaceError, OperationalError, connection, transaction
from gevent.event import AsyncResult
from gevent.queue import PriorityQueue

from stechec.common.database import error_line

logger = logging.getLogger(__name__)

RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
MAX_BATCH = 500


class _Job:
    def __init__(self, function, args):
        self.function = function
        self.args = args
        self.result = AsyncResult()

    def run(self):
        with transaction.atomic():
            return self.function(*self.args)

    def settle(self, value=None, error=None):
        if error is None:
            self.result.set(value)
        else:
            self.result.set_exception(error)


class _Batch:
    """Items for one batch function, collected while the batch waits for a greenlet."""

    def __init__(self, function):
        self.function = function
        # Whether it is in the job queue (a batch waits out of it while
        # another of its function runs).
        self.queued = False
        self.items = []
        self.results = []

    def run(self):
        with transaction.atomic():
            return self.function([item for item in self.items])

    def settle(self, value=None, error=None):
        if error is not None:
            for result in self.results:
                result.set_exception(error)
            return
        for result, outcome in zip(self.results, value, strict=True):
            if isinstance(outcome, Exception):
                result.set_exception(outcome)
            else:
                result.set(outcome)


URGENT, NORMAL = 0, 1


class Database:
    def __init__(self, size):
        # (priority, arrival, job): first the urgent jobs, each priority in order.
        self._jobs = PriorityQueue()
        self._arrivals = itertools.count()
        self._open_batches = {}
        # Batches running, by function: the next batch of a function collects
        # items until the running one is done, so that results arriving
        # together share one transaction rather than each taking a connection.
        self._running_batches = collections.Counter()
        for _ in range(size):
            gevent.spawn(self._serve)

    def call(self, function, *args, urgent=False):
        """Run `function(*args)` in one transaction on a database greenlet; its return value.

        An `urgent` job runs before any job waiting that is not."""
        job = _Job(function, args)
        self._put(URGENT if urgent else NORMAL, job)
        return job.result.get()

    def _put(self, priority, job):
        self._jobs.put((priority, next(self._arrivals), job))

    def submit_batched(self, function, item):
        """Have `function(items)` process `item` with others queued meanwhile, in one transaction.

        `function` returns one outcome per item, an exception instance for an
        item it refuses; the AsyncResult returned gets (or raises) the outcome
        of `item`.
        """
        batch = self._open_batches.get(function)
        if batch is None or len(batch.items) >= MAX_BATCH:
            if batch is not None and not batch.queued:
                # Full: it goes now.
                self._queue_batch(batch)
            batch = self._open_batches[function] = _Batch(function)
            if not self._running_batches[function]:
                self._queue_batch(batch)
        result = AsyncResult()
        batch.items.append(item)
        batch.results.append(result)
        return result

    def _queue_batch(self, batch):
        batch.queued = True
        self._put(NORMAL, batch)

    def _serve(self):
        while True:
            _, _, job = self._jobs.get()
            if isinstance(job, _Batch):
                if self._open_batches.get(job.function) is job:
                    # Later items start a new batch from now on.
                    del self._open_batches[job.function]
                self._running_batches[job.function] += 1
                try:
                    self._serve_batch(job)
                finally:
                    self._batch_done(job.function)
            else:
                self._serve_job(job)

    def _batch_done(self, function):
        self._running_batches[function] -= 1
        waiting = self._open_batches.get(function)
        if not self._running_batches[function] and waiting is not None and not waiting.queued:
            self._queue_batch(waiting)

    def _serve_batch(self, batch):
        try:
            value = self._run(batch)
        except Exception as e:
            if len(batch.items) > 1:
                # One item broke the transaction: apply each alone, so the
                # others still go through and the culprit gets the error.
                logger.warning("a batch of %d failed (%s); applying them one by one",
                               len(batch.items), e)
                self._split(batch)
                return
            logger.exception("database batch %s failed", batch.function)
            batch.settle(error=e)
        else:
            batch.settle(value)

    def _serve_job(self, job):
        try:
            value = self._run(job)
        except Exception as e:
            logger.exception("database job %s failed", getattr(job.function, "__name__", job))
            job.settle(error=e)
        else:
            job.settle(value)

    def _split(self, batch):
        for item, result in zip(batch.items, batch.results, strict=True):
            single = _Batch(batch.function)
            single.items.append(item)
            single.results.append(result)
            try:
                single.settle(self._run(single))
            except Exception as e:
                single.settle(error=e)

    def _run(self, job):
        """Run `job`, reconnecting and running it again as long as the connection drops."""
        tries = 0
        while True:
            try:
                return job.run()
            except (OperationalError, InterfaceError) as e:
                if not _connection_lost(e):
                    raise
                delay = RECONNECT_DELAYS[min(tries, len(RECONNECT_DELAYS) - 1)]
                tries += 1
                logger.warning("database unavailable (%s); reconnecting in %.1f s (try %d)",
                               error_line(e), delay, tries)
                _discard_connection()
                gevent.sleep(delay)




def _connection_lost(error):
    """Whether `error` is worth reconnecting and running the job again.

    On PostgreSQL an OperationalError or InterfaceError is the connection's
    (dropped, refused, server restarting) and not the query's: psycopg2 may
    even report the connection open after the server closed it. On SQLite it
    is only a lock held too long; anything else there (a missing table) is
    the database's state, and retrying would not change it.
    """
    if connection.vendor == "postgresql":
        return True
    return "locked" in str(error)


def _discard_connection():
    try:
        connection.close()
    except Exception:
        # Closing a dead connection may fail too; Django forgets it either way.
        connection.connection = None
