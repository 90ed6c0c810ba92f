"""The webhook sender's Prometheus metrics: a real `stechec-manage send_webhooks` process
delivering to HTTP receivers on loopback (one hanging, one accepting, one failing, and a
port nothing listens on), its /metrics scraped over HTTP as it goes."""

import datetime
import signal
import socket
import subprocess
import sys
import urllib.parse

import pytest
from django.db import connection
from django.utils import timezone
from prometheus_client import REGISTRY

from devtools.contest_data import sql_section
from stechec.contest.models import WebhookDelivery
from stechec.contest.webhook_sender import Sender
from stechec.local.cluster import free_port
from stechec.www.contest import webhooks
from tests.conftest import metric_sum, query, scrape, wait_for
from tests.master_node.pg_relay import PostgresRelay
from tests.www.test_health import site_env
from tests.www.webhook_receiver import PATIENCE_SECS

pytestmark = pytest.mark.django_db(transaction=True)

EVENT = "champion.compiled"


def queue(webhook, age_secs, due_in_secs=None):
    """A delivery to `webhook` queued `age_secs` ago, due then unless `due_in_secs` says
    otherwise (seconds from now)."""
    created = timezone.now() - datetime.timedelta(seconds=age_secs)
    next_try = (created if due_in_secs is None
                else timezone.now() + datetime.timedelta(seconds=due_in_secs))
    return WebhookDelivery.objects.create(
        webhook=webhook, event=EVENT, payload={"champion": {"id": 1}}, created=created,
        next_try_at=next_try)


class SenderProcess:
    """`stechec-manage send_webhooks` on the test database (or `sql`, a website.yml
    section), its metrics on a port of its own."""

    def __init__(self, tmp_path, *options, sql=None):
        self.log = tmp_path / "send_webhooks.log"
        port = free_port()
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "stechec.www.manage", "send_webhooks",
                 "--metrics-port", str(port), *options],
                env=site_env(tmp_path, sql or sql_section(connection)), stdout=log,
                stderr=subprocess.STDOUT)
        self.metrics_url = f"http://127.0.0.1:{port}/metrics"

    def scrape(self):
        """The metrics, or None while the process does not answer yet."""
        try:
            return scrape(self.metrics_url)
        except OSError:
            assert self.process.poll() is None, self.log.read_text()
            return None

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(PATIENCE_SECS) == 0, self.log.read_text()


@pytest.fixture
def sender_process(tmp_path):
    started = []

    def start(*options, sql=None):
        started.append(SenderProcess(tmp_path, *options, sql=sql))
        return started[-1]

    yield start
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait()


def test_a_running_sender_s_metrics_follow_its_deliveries(alice, receivers, sender_process):
    hanging, accepting = receivers(["hang"]), receivers()
    failing = receivers(["fail"])
    hooks = {name: webhooks.create(alice, url, [EVENT])[0] for name, url in (
        ("hanging", hanging.url), ("accepting", accepting.url), ("failing", failing.url),
        ("refused", f"http://127.0.0.1:{free_port()}/"))}
    # The hanging hook's delivery is the oldest: the sender's one thread takes it first and
    # the three others wait, due for an hour; the accepting hook's next is due tomorrow.
    queue(hooks["hanging"], 7200)
    for name in ("accepting", "failing", "refused"):
        queue(hooks[name], 3600)
    queue(hooks["accepting"], 3600, due_in_secs=86400)

    # Failures an hour after their event are past the give-up time: they end at once.
    sender = sender_process("--threads", "1", "--timeout", str(PATIENCE_SECS),
                            "--give-up", "1800", "--poll", "0.1")
    stuck = wait_for(lambda: hanging.hanging.is_set() and sender.scrape(),
                     "the sender to take the hanging hook's delivery")
    assert stuck["stechec_webhook_requests_in_flight", ()] == 1
    assert stuck["stechec_webhook_threads", ()] == 1
    assert stuck["stechec_webhook_deliveries_waiting", (("state", "due"),)] == 3
    # The delivery under way (its claim runs into the future) and tomorrow's.
    assert stuck["stechec_webhook_deliveries_waiting", (("state", "later"),)] == 2
    assert stuck["stechec_webhook_oldest_due_seconds", ()] >= 3600
    assert metric_sum(stuck, "stechec_webhook_attempts_total") == 0

    hanging.release.set()
    wait_for(lambda: not WebhookDelivery.objects.filter(
        status="pending", next_try_at__lte=timezone.now()).exists()
        and sender.scrape()["stechec_webhook_requests_in_flight", ()] == 0,
        "the sender to send the waiting deliveries", timeout=PATIENCE_SECS)
    after = sender.scrape()
    attempts = {labels: value for (name, labels), value in after.items()
                if name == "stechec_webhook_attempts_total"}
    assert attempts == {(("outcome", "delivered"), ("reason", "")): 2,
                        (("outcome", "failed"), ("reason", "http_5xx")): 1,
                        (("outcome", "failed"), ("reason", "refused")): 1}
    assert metric_sum(after, "stechec_webhook_deliveries_total", outcome="delivered") == 2
    assert metric_sum(after, "stechec_webhook_deliveries_total", outcome="given_up") == 2
    for outcome in ("delivered", "failed"):
        assert metric_sum(after, "stechec_webhook_attempt_seconds_count", outcome=outcome) \
            == 2, outcome
    assert after["stechec_webhook_deliveries_waiting", (("state", "due"),)] == 0
    assert after["stechec_webhook_deliveries_waiting", (("state", "later"),)] == 1
    assert after["stechec_webhook_oldest_due_seconds", ()] == 0
    assert [len(r.requests) for r in (hanging, accepting, failing)] == [1, 1, 1]
    sender.stop()


def test_prometheus_scrapes_a_stalled_sender_and_the_stalled_rule_holds(
        alice, receivers, sender_process, prometheus):
    hanging, accepting = receivers(["hang"]), receivers()
    queue(webhooks.create(alice, hanging.url, [EVENT])[0], 7200)
    queue(webhooks.create(alice, accepting.url, [EVENT])[0], 3600)
    sender = sender_process("--threads", "1", "--timeout", str(PATIENCE_SECS), "--poll", "0.1")
    wait_for(lambda: hanging.hanging.is_set(), "the sender to take the hanging hook's delivery")
    base = prometheus([urllib.parse.urlsplit(sender.metrics_url).netloc], "stechec-webhooks")

    due = wait_for(lambda: query(base, 'stechec_webhook_deliveries_waiting{state="due"}'),
                   "Prometheus to scrape the sender")
    assert [float(sample["value"][1]) for sample in due] == [1]
    # Due for an hour behind the one thread: the rule's condition holds (pending for 5 min).
    alerts = wait_for(lambda: query(base, 'ALERTS{alertname="StechecWebhooksStalled"}'),
                      "the stalled rule to hold")
    assert alerts[0]["metric"]["alertstate"] in ("pending", "firing")
    hanging.release.set()
    sender.stop()


def test_with_the_database_gone_a_scrape_still_answers_without_the_queue(
        alice, receivers, sender_process):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite cannot be made unreachable (this runs in the PostgreSQL pass)")
    settings = connection.settings_dict
    relay = PostgresRelay(settings["HOST"], int(settings["PORT"]))
    receiver = receivers()
    queue(webhooks.create(alice, receiver.url, [EVENT])[0], 0)
    sender = sender_process("--poll", "0.1", sql={
        **sql_section(connection), "host": "127.0.0.1", "port": relay.port})
    try:
        sent = wait_for(lambda: (sender.scrape() or {}).get(
            ("stechec_webhook_deliveries_total", (("outcome", "delivered"),))),
            "the sender to deliver")
        assert sent == 1
        relay.cut()
        gone = sender.scrape()
    finally:
        relay.close()
    assert not any(name.startswith("stechec_webhook_deliveries_waiting")
                   or name.startswith("stechec_webhook_oldest_due") for name, _ in gone)
    assert gone["stechec_webhook_deliveries_total", (("outcome", "delivered"),)] == 1
    assert gone["stechec_webhook_requests_in_flight", ()] == 0
    assert "reading the webhook queue for the metrics failed" in sender.log.read_text()
    sender.stop()


def test_a_request_cut_by_the_timeout_counts_as_a_timeout(alice, receivers):
    receiver = receivers(["hang"])
    queue(webhooks.create(alice, receiver.url, [EVENT])[0], 0)
    labels = {"outcome": "failed", "reason": "timeout"}
    before = REGISTRY.get_sample_value("stechec_webhook_attempts_total", labels) or 0
    sender = Sender(timeout=0.5, first_delay=3600)
    try:
        sender.drain()
    finally:
        receiver.release.set()
        sender.close()
    assert WebhookDelivery.objects.get().last_error.startswith("TimeoutError")
    assert REGISTRY.get_sample_value("stechec_webhook_attempts_total", labels) == before + 1


def test_a_metrics_port_in_use_is_one_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "stechec.www.manage", "send_webhooks",
                              "--metrics-port", str(port)],
                             env=site_env(tmp_path, sql_section(connection)),
                             capture_output=True, text=True, timeout=PATIENCE_SECS)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"CommandError: --metrics-port: cannot serve metrics on 127.0.0.1:{port}: "
        "Address already in use"]


def test_a_metrics_port_out_of_range_is_one_clear_error(tmp_path):
    run = subprocess.run([sys.executable, "-m", "stechec.www.manage", "send_webhooks",
                          "--metrics-port", "70000"],
                         env=site_env(tmp_path, sql_section(connection)),
                         capture_output=True, text=True, timeout=PATIENCE_SECS)
    assert (run.returncode, run.stderr) == (
        1, "CommandError: --metrics-port: a port number, 0 to 65535.\n")
