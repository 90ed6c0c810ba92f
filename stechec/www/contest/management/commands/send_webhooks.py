"""`stechec-manage send_webhooks`: POST the queued webhook deliveries (docs/webhooks.md)."""

import logging
import signal
import threading

from django.core.management.base import CommandError
from prometheus_client import start_http_server

from stechec.contest import webhook_metrics, webhook_sender
from stechec.www.contest.management.site_language import SiteCommand

logger = logging.getLogger(__name__)


def positive(text):
    value = float(text)
    if value <= 0:
        raise ValueError(text)
    return value


def serve_metrics(sender, host, port):
    """Serve `sender`'s metrics (webhook_metrics) on a thread of their own."""
    webhook_metrics.watch(sender)
    try:
        server, _ = start_http_server(port, host)
    except OSError as e:
        raise CommandError(f"--metrics-port: cannot serve metrics on {host}:{port}: "
                           f"{e.strerror or e}") from None
    logger.info("metrics at http://%s:%d/metrics", host, server.server_port)


class Command(SiteCommand):
    help = ("Send the queued webhook deliveries, retrying failed ones with a doubling delay "
            "until the give-up time; runs until stopped (SIGTERM, SIGINT) unless --once.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="send what is due now, wait for it, and exit")
        parser.add_argument("--timeout", type=positive, default=webhook_sender.TIMEOUT_SECS,
                            help="seconds a request may take (default %(default)s)")
        parser.add_argument("--give-up", type=positive, default=webhook_sender.GIVE_UP_SECS,
                            help="seconds after its event a delivery is given up "
                                 "(default %(default)s)")
        parser.add_argument("--first-delay", type=positive,
                            default=webhook_sender.FIRST_DELAY_SECS,
                            help="seconds before the first retry, doubling for each next "
                                 "(default %(default)s)")
        parser.add_argument("--max-delay", type=positive, default=webhook_sender.MAX_DELAY_SECS,
                            help="the longest delay between retries (default %(default)s)")
        parser.add_argument("--threads", type=int, default=webhook_sender.THREADS,
                            help="requests in flight at once (default %(default)s)")
        parser.add_argument("--poll", type=positive, default=1.0,
                            help="seconds between looks at the queue (default %(default)s)")
        parser.add_argument("--metrics-port", type=int,
                            help="serve Prometheus metrics at "
                                 "http://METRICS_HOST:METRICS_PORT/metrics (default: none)")
        parser.add_argument("--metrics-host", default="127.0.0.1",
                            help="the address the metrics are served on (default %(default)s)")

    def handle(self, *args, **options):
        if options["threads"] < 1:
            raise CommandError("--threads: at least 1.")
        port = options["metrics_port"]
        if port is not None and not 0 <= port <= 65535:
            raise CommandError("--metrics-port: a port number, 0 to 65535.")
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s send_webhooks %(levelname)s %(message)s")
        sender = webhook_sender.Sender(
            timeout=options["timeout"], give_up=options["give_up"],
            first_delay=options["first_delay"], max_delay=options["max_delay"],
            threads=options["threads"])
        try:
            if port is not None:
                serve_metrics(sender, options["metrics_host"], port)
            if options["once"]:
                sender.drain()
                return
            stop = threading.Event()
            for number in (signal.SIGTERM, signal.SIGINT):
                signal.signal(number, lambda *_: stop.set())
            sender.run(options["poll"], stop)
        finally:
            sender.close()
