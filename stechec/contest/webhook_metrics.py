"""The webhook sender's Prometheus metrics (docs/webhooks.md, Metrics).

Labels are words from small sets (outcomes, classes of failure), never a
hook, a URL or a delivery: the series stay few however many hooks the
players register. The queue's figures are read from the database when
Prometheus scrapes, so they tell the truth even while the sender's main
loop is stuck (or while no sender runs but the one scraped).
"""

import http.client
import logging
import socket
import ssl

from django.db import connection
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

from stechec.contest.models import WebhookDelivery

logger = logging.getLogger(__name__)

ATTEMPTS = Counter("stechec_webhook_attempts", "Requests the sender made, by outcome "
                   "(delivered, failed) and a failure's class (reason: http_3xx, http_4xx, "
                   "http_5xx, timeout, refused, dns, tls, protocol, connection, other)",
                   ["outcome", "reason"])
# Seconds: an answer on the same network (milliseconds) to a request cut by the
# timeout, which bounds each network operation (connect, send, read) rather than the whole.
ATTEMPT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
ATTEMPT_SECONDS = Histogram("stechec_webhook_attempt_seconds", "How long a request took, "
                            "from connecting to the answer or the failure, by outcome",
                            ["outcome"], buckets=ATTEMPT_BUCKETS)
ENDED = Counter("stechec_webhook_deliveries", "Deliveries that ended, by how: delivered, "
                "given_up (still failing at the give-up time), disabled (their hook "
                "switched off)", ["outcome"])
IN_FLIGHT = Gauge("stechec_webhook_requests_in_flight", "Requests this sender has under way")
THREADS = Gauge("stechec_webhook_threads", "Requests this sender may have under way at once "
                "(--threads)")

# A network failure's exception to its class: the first match wins (a timeout and a
# refusal are OSErrors too; RemoteDisconnected, an answer cut short, is both a
# ConnectionResetError and an HTTPException).
NETWORK_FAILURES = (
    (TimeoutError, "timeout"),
    (ConnectionRefusedError, "refused"),
    (socket.gaierror, "dns"),
    (ssl.SSLError, "tls"),
    (http.client.HTTPException, "protocol"),
    (OSError, "connection"),
)


def network_failure(error):
    """The class of NETWORK_FAILURES for the exception `error`, else "other"."""
    return next((word for kind, word in NETWORK_FAILURES if isinstance(error, kind)), "other")


def http_failure(status):
    """The class of an HTTP answer that is no success: http_4xx for a 404."""
    return f"http_{status // 100}xx"


def attempted(failure, seconds):
    """Count a request that took `seconds`: delivered when `failure` (its class) is None."""
    outcome = "delivered" if failure is None else "failed"
    ATTEMPTS.labels(outcome, failure or "").inc()
    ATTEMPT_SECONDS.labels(outcome).observe(seconds)


def ended(outcome):
    ENDED.labels(outcome).inc()


class QueueCollector:
    """The pending deliveries, read from the database at each scrape (one query, on the
    scrape's thread and a connection of its own, closed after)."""

    def describe(self):
        """The families without their figures: what registering the collector asks for,
        instead of a first read of the database."""
        return [GaugeMetricFamily("stechec_webhook_deliveries_waiting",
                                  "Pending deliveries, by state: due (their time has come: "
                                  "waiting for a sender) or later (a retry not yet due, or "
                                  "a request under way)", labels=["state"]),
                GaugeMetricFamily("stechec_webhook_oldest_due_seconds",
                                  "How long the delivery due longest has waited for a sender "
                                  "(0: none is due)")]

    def collect(self):
        waiting, oldest = self.describe()
        now = timezone.now()
        due = Q(next_try_at__lte=now)
        try:
            figures = WebhookDelivery.objects.filter(
                status=WebhookDelivery.Status.PENDING).aggregate(
                pending=Count("pk"), due=Count("pk", filter=due),
                oldest=Min("next_try_at", filter=due))
        except Exception:
            # A database restarting, SQLite busy: a scrape without the queue's figures
            # (Prometheus sees them missing) rather than no metrics at all.
            logger.exception("reading the webhook queue for the metrics failed")
            return
        finally:
            connection.close()
        waiting.add_metric(["due"], figures["due"])
        waiting.add_metric(["later"], figures["pending"] - figures["due"])
        oldest.add_metric([], 0 if figures["oldest"] is None
                          else max(0.0, (now - figures["oldest"]).total_seconds()))
        yield waiting
        yield oldest


def watch(sender):
    """Read the requests under way from `sender` (a webhook_sender.Sender) and the queue
    from the database at each scrape."""
    IN_FLIGHT.set_function(lambda: sender.in_flight)
    THREADS.set(sender.threads)
    REGISTRY.register(QueueCollector())
