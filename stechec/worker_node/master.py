"""Calls from the worker to the master: the heartbeat and the results.

The master may be restarting at any moment. The heartbeat keeps beating
through an outage and says `first` until one beat got through; results are
retried with backoff for `callback_retry_secs`, so that a finished match is
not lost while the master restarts. An outage is logged once when it starts
and once when it ends, not once per failed call; a master that refuses our
signature (HTTP 401: a wrong shared secret, or clocks apart) is not an
outage, and is said so once a minute while it lasts.

Results go out from one greenlet: one alone through `compilation_result` or
`match_done`, several (those that finished while the previous call was on
its way, or during an outage) together through `task_results`, unless the
master has no such method (then one a call, from then on).
"""

import logging
import time
import xmlrpc.client

import gevent
import gevent.event

from stechec.common import tasks
from stechec.common.rpc import METHOD_NOT_FOUND, RPCClient, server_url

logger = logging.getLogger(__name__)

FIRST_RETRY_SECS = 0.5
MAX_RETRY_SECS = 15.0
# While the master refuses our requests (a wrong shared secret, clocks apart),
# it is said again at most this often.
REFUSED_REPEAT_SECS = 60.0
# What a call that never got its answer raises: the master is unreachable (or restarting).
UNREACHABLE = (OSError, xmlrpc.client.ProtocolError)


class _Report:
    """A result waiting for the master's answer."""

    def __init__(self, what, kind, task_id, attempt, result, deadline):
        self.what = what
        self.kind = tasks.Kind(kind)
        self.task_id = task_id
        self.attempt = attempt
        self.result = result
        self.deadline = deadline
        self.answer = gevent.event.AsyncResult()

    @property
    def entry(self):
        """As `task_results` takes it."""
        return tasks.ResultEntry(kind=self.kind, id=self.task_id, attempt=self.attempt,
                                 result=self.result)


class MasterLink:
    def __init__(self, config, identity, problem):
        master = config["master"]
        self.url = server_url(master["host"], master["port"])
        self.client = RPCClient(self.url, master["shared_secret"],
                                timeout=master["rpc_timeout_secs"])
        self.heartbeat_secs = master["heartbeat_secs"]
        self.retry_secs = master["callback_retry_secs"]
        # A callable returning [hostname, port, free_slots, max_slots] and the running refs.
        self.identity = identity
        # A callable returning why the worker takes no task now, or None.
        self.problem = problem
        self.first = True
        self._down_since = None
        # While the master refuses our signature: since when, when it was last
        # said, and how many requests it refused since.
        self._refused_since = None
        self._refused_said = 0.0
        self._refused_count = 0
        # False once the master answered that it has no `task_results`.
        self.batches = True
        self._outbox = []
        self._sender = None

    def beat_forever(self):
        while True:
            self.beat()
            gevent.sleep(self.heartbeat_secs)

    def beat(self):
        problem = self.problem() or ""
        worker, running = self.identity()
        try:
            self.client.heartbeat(worker, self.first, running, problem)
        except xmlrpc.client.Fault as e:
            logger.error("heartbeat refused by the master: %s", e.faultString)
            return False
        except UNREACHABLE as e:
            self._unreachable(e)
            return False
        self._reachable()
        if self.first:
            logger.info("registered with the master at %s (%d slots)", self.url, worker[3])
        self.first = False
        return True

    def report(self, what, kind, task_id, attempt, result):
        """Deliver a result; return the master's answer (a tasks.Answer), UNDELIVERED when it
        stayed unreachable for `callback_retry_secs`."""
        report = _Report(what, kind, task_id, attempt, result,
                         time.monotonic() + self.retry_secs)
        self._outbox.append(report)
        if self._sender is None:
            self._sender = gevent.spawn(self._send_outbox)
        return report.answer.get()

    def _send_outbox(self):
        """Send every waiting result, in as few calls as the master allows, until none waits;
        while the master cannot be reached, back off and try again with whatever waits then."""
        delay = FIRST_RETRY_SECS
        try:
            while self._outbox:
                reports, self._outbox = self._outbox, []
                try:
                    self._send(reports)
                    delay = FIRST_RETRY_SECS
                except Exception as e:
                    if not isinstance(e, UNREACHABLE):
                        # Say what it was, and retry as for an outage: a result is never
                        # left without an answer.
                        logger.exception("sending results to the master failed")
                    self._unreachable(e)
                    waiting = [r for r in reports if not r.answer.ready()]
                    for report in waiting:
                        if time.monotonic() + delay > report.deadline:
                            logger.error("%s: result lost: the master stayed unreachable for "
                                         "%.0f s", report.what, self.retry_secs)
                            report.answer.set(tasks.UNDELIVERED)
                    self._outbox[:0] = [r for r in waiting if not r.answer.ready()]
                    gevent.sleep(delay)
                    delay = min(delay * 2, MAX_RETRY_SECS)
        finally:
            self._sender = None

    def _send(self, reports):
        worker, _running = self.identity()
        if len(reports) > 1 and self.batches:
            answers = self._send_together(worker, reports)
            if answers is not None:
                for report, answer in zip(reports, answers, strict=True):
                    self._settle(report, answer)
                return
        for report in reports:
            try:
                answer = self._read_answer(self.client.call(
                    report.kind.result_method, worker, report.task_id, report.attempt,
                    report.result))
            except xmlrpc.client.Fault as e:
                answer = tasks.Answer(tasks.Outcome.REFUSED, e.faultString)
            self._reachable()
            self._settle(report, answer)

    def _send_together(self, worker, reports):
        """`task_results` for `reports`: one answer each, or None to send them one a call."""
        try:
            answers = self.client.call("task_results", worker, [r.entry for r in reports])
        except xmlrpc.client.Fault as e:
            self._reachable()
            if e.faultCode == METHOD_NOT_FOUND:
                logger.info("the master has no task_results: sending results one a call")
                self.batches = False
            else:
                # One bad result must not hold up the others: alone, only it is refused.
                logger.error("the master refused %d results sent together (%s); sending them "
                             "one a call", len(reports), e.faultString)
            return None
        self._reachable()
        if isinstance(answers, list) and len(answers) == len(reports):
            try:
                return [tasks.Answer.from_wire(answer) for answer in answers]
            except ValueError:
                pass
        logger.error("the master answered %.100r to %d results; sending them one a call",
                     answers, len(reports))
        return None

    @staticmethod
    def _read_answer(value):
        """A single-result method's answer (true or false), read as `task_results`' are; an
        answer that is none of those is taken as a drop, which leaves nothing unanswered."""
        try:
            return tasks.Answer.from_wire(value)
        except ValueError:
            return tasks.DROPPED

    @staticmethod
    def _settle(report, answer):
        """Log the master's answer to `report` and hand it to the task waiting on it."""
        if answer.outcome is tasks.Outcome.APPLIED:
            logger.info("%s: result delivered", report.what)
        elif answer.outcome is tasks.Outcome.REFUSED:
            logger.error("%s: the master refused the result: %s", report.what, answer.refusal)
        else:
            logger.warning("%s: the master dropped the result (stale attempt or finished "
                           "task)", report.what)
        report.answer.set(answer)

    def _unreachable(self, error):
        # The pooled keep-alive connections went to a master that is gone.
        self.client.close()
        if isinstance(error, xmlrpc.client.ProtocolError) and error.errcode == 401:
            self._refused(error.errmsg.partition(": ")[2] or error.errmsg)
            return
        if self._down_since is None:
            self._down_since = time.monotonic()
            logger.warning("the master at %s cannot be reached (%s); retrying", self.url,
                           str(error) or type(error).__name__)

    def _refused(self, why):
        """The master answered that our request's signature is not good (HTTP 401): it is
        there, and will refuse everything until the configuration is fixed; said now and
        then, not at every heartbeat."""
        now = time.monotonic()
        self._refused_count += 1
        if self._refused_since is None:
            self._refused_since = now
        elif now - self._refused_said < REFUSED_REPEAT_SECS:
            return
        self._refused_said = now
        if "wrong signature" in why:
            what = "refused our signature: check shared_secret"
        else:
            what = "refused our request"
        logger.error("the master at %s %s (it says: %s; %d requests refused in %.0f s)",
                     self.url, what, why, self._refused_count, now - self._refused_since)

    def _reachable(self):
        if self._refused_since is not None:
            logger.info("the master at %s accepts our requests again", self.url)
            self._refused_since = None
            self._refused_count = 0
        if self._down_since is not None:
            logger.info("the master at %s is back after %.0f s", self.url,
                        time.monotonic() - self._down_since)
            self._down_since = None
