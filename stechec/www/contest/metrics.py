"""The site's Prometheus metrics, served at /metrics (docs/website.md, Metrics).

Under gunicorn each worker process counts its own requests; with
PROMETHEUS_MULTIPROC_DIR set (share/gunicorn/gunicorn.conf.py sets it) they
write their figures in files there and /metrics adds up every process's, so
a scrape sees the whole site whichever process answers. Without it (a single
process: runserver, the tests) /metrics shows the answering process's own.
"""

import ipaddress
import os
import time

from django.http import HttpResponse, HttpResponseForbidden
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)

from stechec.www.contest import conf

# Seconds: a cached page (milliseconds) to the request timeout (share/gunicorn: 30 s).
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
REQUEST_SECONDS = Histogram("stechec_www_request_seconds", "How long the site took to answer a "
                            "request, by the view's URL name (unresolved: no view matched)",
                            ["view"], buckets=REQUEST_BUCKETS)


class RequestDurationMiddleware:
    """Times every request, labelled by the URL name it resolved to, not its path: a
    series per match page would grow with the contest."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        try:
            return self.get_response(request)
        finally:
            match = getattr(request, "resolver_match", None)
            REQUEST_SECONDS.labels(match.view_name if match else "unresolved").observe(
                time.monotonic() - started)


def client_address(request):
    """The address that sent `request`: behind a proxy (the nginx sample) the one it
    appended last to X-Forwarded-For, the peer it saw; else the connection's."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    address = forwarded.rsplit(",", 1)[-1].strip() if forwarded else request.META["REMOTE_ADDR"]
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def allowed(request):
    """Staff, or an address in website.metrics_allowed_from."""
    if request.user.is_staff:
        return True
    address = client_address(request)
    return address is not None and any(
        address in ipaddress.ip_network(network)
        for network in conf.website()["metrics_allowed_from"])


@never_cache
def metrics(request):
    if not allowed(request):
        return HttpResponseForbidden(_("Only staff and the addresses in "
                                       "website.metrics_allowed_from read the metrics.\n"),
                                     content_type="text/plain")
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
