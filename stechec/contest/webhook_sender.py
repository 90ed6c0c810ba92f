"""Send the queued webhook deliveries (`stechec-manage send_webhooks`, docs/webhooks.md).

Apart from the master: the core queues deliveries in the database
(webhook_events) and this sender, a process of its own, POSTs them. Its
main thread does all the database work (claiming due deliveries, recording
outcomes); a pool of threads only speaks HTTP, each request bounded by a
timeout. A webhook has at most one delivery in flight at a time, so a dead
or slow endpoint holds one thread and the others keep serving every other
hook.

A claim moves a delivery's `next_try_at` past the time its request can
take (on PostgreSQL under `SELECT ... FOR UPDATE SKIP LOCKED`, so several
senders share the queue): a sender that dies mid-request leaves it to be
sent again later. Receivers tell a repeat by its X-Stechec-Delivery header.
A failed attempt is retried after a delay doubling each time; a delivery
still undelivered after the give-up time ends `failed`. Each request is
counted and timed, each delivery's end counted (webhook_metrics).
"""

import concurrent.futures
import datetime
import http.client
import json
import logging
import time
import urllib.parse

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from stechec.common import rpc
from stechec.contest import webhook_metrics
from stechec.contest.models import Champion, Match, Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

TIMEOUT_SECS = 5.0
GIVE_UP_SECS = 24 * 3600.0
FIRST_DELAY_SECS = 10.0
MAX_DELAY_SECS = 3600.0
THREADS = 8
# What of an endpoint's refusal is kept as the delivery's error.
ERROR_BYTES = 300
# Discord refuses longer messages.
DISCORD_LENGTH = 2000
USER_AGENT = "stechec2-webhooks"

Status = WebhookDelivery.Status


def body(event, payload, discord=False):
    """The bytes POSTed for `event`: {"event", "data"} JSON, or Discord's {"content"}."""
    if discord:
        return json.dumps({"content": discord_text(event, payload)[:DISCORD_LENGTH]}).encode()
    return json.dumps({"event": event, "data": payload}, sort_keys=True).encode()


def discord_text(event, payload):
    """One message in words for a Discord channel, in the site's language (LANGUAGE_CODE):
    a channel's readers have no language of their own the sender could know."""
    with translation.override(settings.LANGUAGE_CODE):
        if event == Webhook.Event.CHAMPION_COMPILED:
            c = payload["champion"]
            return gettext("Champion **%(name)s** (#%(id)s) by %(author)s: %(status)s") % {
                "name": c["name"], "id": c["id"], "author": c["author"],
                "status": _label(Champion.Status, c["status"])}
        if event == Webhook.Event.MATCH_FINISHED:
            m = payload["match"]
            players = ", ".join(f"{p['name']} ({p['author']}) {p['score']}"
                                for p in m["players"])
            return gettext("Match #%(id)s %(status)s: %(players)s") % {
                "id": m["id"], "status": _label(Match.Status, m["status"]), "players": players}
        t = payload["tournament"]
        standings = "\n".join(
            gettext("%(rank)s. %(name)s (%(author)s), %(points)s points") % {
                "rank": row["rank"], "name": row["name"], "author": row["author"],
                "points": formats.number_format(row["points"])}
            for row in t["standings"])
        return gettext("Tournament **%(name)s** finished:\n%(standings)s") % {
            "name": t["name"], "standings": standings}


def _label(statuses, value):
    """A status's label in the active language; an unknown value as it is."""
    return statuses(value).label if value in statuses.values else value


def headers(webhook, delivery_id, event, data):
    """The request's headers, signed as the nodes sign their calls (stechec.common.rpc):
    HMAC-SHA256 of the timestamp, a newline and the body, keyed with the hook's secret."""
    return [("Content-Type", "application/json"), ("User-Agent", USER_AGENT),
            ("X-Stechec-Event", event), ("X-Stechec-Delivery", str(delivery_id))] \
        + rpc.signature_headers(webhook.secret, data)


def post(url, request_headers, data, timeout):
    """POST `data` to `url`; (HTTP status or None, error or None: delivered, the error's
    class for the metrics). No redirect is followed: a hook's URL is where its events go."""
    parts = urllib.parse.urlsplit(url)
    kind = (http.client.HTTPSConnection if parts.scheme == "https"
            else http.client.HTTPConnection)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = kind(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", target, data, dict(request_headers))
        response = connection.getresponse()
        answer = response.read(ERROR_BYTES)
    except (OSError, http.client.HTTPException) as e:
        return None, f"{type(e).__name__}: {e}", webhook_metrics.network_failure(e)
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return response.status, None, None
    text = answer.decode("utf-8", "replace").strip()
    return (response.status, f"HTTP {response.status} {response.reason}: {text}".strip(": "),
            webhook_metrics.http_failure(response.status))


def send(url, request_headers, data, timeout):
    """`post`, counted and timed in the metrics: (HTTP status or None, error or None)."""
    started = time.monotonic()
    # Whatever ended a request (a URL http.client cannot send) is its failure.
    try:
        status, error, failure = post(url, request_headers, data, timeout)
    except Exception as e:
        status, error, failure = None, f"{type(e).__name__}: {e}", "other"
    webhook_metrics.attempted(failure, time.monotonic() - started)
    return status, error


def retry_delay(attempts, first_delay, max_delay):
    """Seconds before the next try after the `attempts`-th failed."""
    return min(first_delay * 2 ** (attempts - 1), max_delay)


class Sender:
    """Claims due deliveries, sends them on a pool of threads and records their outcomes.

    Call `step` in a loop (`run` does), or `drain` to send what is due and stop.
    """

    def __init__(self, *, timeout=TIMEOUT_SECS, give_up=GIVE_UP_SECS,
                 first_delay=FIRST_DELAY_SECS, max_delay=MAX_DELAY_SECS, threads=THREADS):
        self.timeout = timeout
        self.give_up = datetime.timedelta(seconds=give_up)
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.threads = threads
        self._pool = concurrent.futures.ThreadPoolExecutor(threads,
                                                           thread_name_prefix="webhook")
        # future -> the delivery it sends (with its webhook).
        self._in_flight = {}

    def close(self):
        self._pool.shutdown(wait=True)

    @property
    def in_flight(self):
        return len(self._in_flight)

    def step(self, wait, due_by=None):
        """Send what is due (by `due_by`, now if not given) as threads are free, then wait
        up to `wait` seconds for requests to end and record them; how many were claimed
        and recorded."""
        claimed = self._claim(self.threads - len(self._in_flight), due_by or timezone.now())
        for delivery in claimed:
            data = body(delivery.event, delivery.payload, delivery.webhook.discord)
            future = self._pool.submit(
                send, delivery.webhook.url,
                headers(delivery.webhook, delivery.pk, delivery.event, data), data, self.timeout)
            self._in_flight[future] = delivery
        if not self._in_flight:
            return len(claimed)
        done, _ = concurrent.futures.wait(self._in_flight, timeout=wait,
                                          return_when=concurrent.futures.FIRST_COMPLETED)
        for future in done:
            self._record(self._in_flight.pop(future), *future.result())
        return len(claimed) + len(done)

    def run(self, poll, stop):
        """Send until the threading.Event `stop` is set, looking for due deliveries every
        `poll` seconds at least."""
        while not stop.is_set():
            try:
                busy = self.step(poll) or self._in_flight
            except DatabaseError as e:
                # A database restarting, or SQLite busy past its timeout: try again later
                # on a new connection; the requests in flight are recorded then.
                logger.warning("database error, retrying in %s s: %s", poll, e)
                connection.close()
                busy = False
            if not busy:
                stop.wait(poll)

    def drain(self):
        """Send every delivery due now and wait for them (a retry due later is left)."""
        now = timezone.now()
        while self.step(self.timeout, due_by=now) or self._in_flight:
            pass

    def _claim(self, room, due_by):
        """Up to `room` due pending deliveries, one per webhook and none of a webhook with
        one in flight, their tries counted and their next try put past this one's end."""
        if room <= 0:
            return []
        busy = {delivery.webhook_id for delivery in self._in_flight.values()}
        with transaction.atomic():
            due = (WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("webhook")
                   .filter(status=Status.PENDING, next_try_at__lte=due_by)
                   .exclude(webhook_id__in=busy).order_by("next_try_at", "id"))
            claimed, hooks = [], set()
            # A few times `room` rows, so that one webhook's backlog leaves room for others.
            for delivery in due[:room * 4]:
                if delivery.webhook_id not in hooks and len(claimed) < room:
                    hooks.add(delivery.webhook_id)
                    claimed.append(delivery)
            disabled = [d for d in claimed if not d.webhook.active]
            for delivery in disabled:
                self._finish(delivery, Status.FAILED, None, "the webhook is disabled",
                             "disabled")
            claimed = [d for d in claimed if d.webhook.active]
            # Past the longest a request can take, with room for the recording.
            lease = timezone.now() + datetime.timedelta(seconds=2 * self.timeout + 60)
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in claimed]).update(
                attempts=F("attempts") + 1, next_try_at=lease)
        for delivery in claimed:
            delivery.attempts += 1
        return claimed

    def _record(self, delivery, http_status, error):
        """Record attempt `delivery.attempts`: delivered, retried later, or given up."""
        if error is None:
            self._finish(delivery, Status.DELIVERED, http_status, "", "delivered")
            return
        now = timezone.now()
        retry = now + datetime.timedelta(seconds=retry_delay(
            delivery.attempts, self.first_delay, self.max_delay))
        if retry - delivery.created > self.give_up:
            logger.warning("webhook %d: gave up delivery %d after %d attempts: %s",
                           delivery.webhook_id, delivery.pk, delivery.attempts, error)
            self._finish(delivery, Status.FAILED, http_status, error, "given_up")
        else:
            self._current(delivery).update(next_try_at=retry, last_http_status=http_status,
                                           last_error=error)

    def _finish(self, delivery, status, http_status, error, outcome):
        """End `delivery` with `status`, counted in the metrics as `outcome` unless another
        sender took it over meanwhile."""
        if self._current(delivery).update(status=status, last_http_status=http_status,
                                          last_error=error, finished_at=timezone.now()):
            webhook_metrics.ended(outcome)

    @staticmethod
    def _current(delivery):
        """The delivery's row while it is pending at the attempt this sender made: a
        claim that expired and was taken again by another sender is left to that one."""
        return WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.PENDING,
                                              attempts=delivery.attempts)
