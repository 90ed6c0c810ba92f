"""Prometheus metrics: each daemon's own, served at /metrics.

The daemons run under gevent: the endpoint is a gevent WSGI server in the
daemon's own hub (prometheus_client's start_http_server would start a real
thread and a blocking server beside it). Figures that describe a state
(workers, slots) are read when Prometheus scrapes, through `set_function`,
so that keeping them costs nothing per task.
"""

import logging

from gevent.pywsgi import WSGIServer
from prometheus_client import make_wsgi_app

logger = logging.getLogger(__name__)

# Seconds: from a compilation (about a second) to a long match (half an hour).
DURATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


def serve(host, port):
    """Serve the process's metrics at http://host:port/metrics; the server, started."""
    server = WSGIServer((host, port), _only_metrics(make_wsgi_app()), log=None,
                        error_log=logger)
    server.start()
    logger.info("metrics at http://%s:%d/metrics", host, server.server_port)
    return server


def _only_metrics(app):
    def metrics_only(environ, start_response):
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"only /metrics is served here\n"]
        return app(environ, start_response)
    return metrics_only
