"""The cluster status page's data: the master's `status()` (shape in docs/rpc.md)."""

import logging
import threading
import time
import xmlrpc.client

from django.utils.translation import gettext as _

from stechec.common.rpc import RPCClient, server_url
from stechec.www.contest import conf

logger = logging.getLogger(__name__)


class MasterUnavailable(Exception):
    """The master could not be asked; the message is for the page."""


# Clients kept between requests so that their connections stay open; one set
# per thread, since RPCClient's pool is made for greenlets, not threads.
_local = threading.local()


def _client(master):
    clients = _local.__dict__.setdefault("clients", {})
    key = (master["host"], master["port"], master["shared_secret"], master["timeout_secs"])
    if key not in clients:
        clients[key] = RPCClient(server_url(master["host"], master["port"]),
                                 master["shared_secret"], timeout=master["timeout_secs"])
    return clients[key]


def master_status():
    """The master's status document, with per-worker figures added for the page."""
    master = conf.master()
    client = _client(master)
    url = client.url
    try:
        status = client.status()
    except xmlrpc.client.Fault as e:
        logger.warning("cluster status: master at %s refused status(): %s", url, e.faultString)
        raise MasterUnavailable(_("The master node refused the request: %(fault)s")
                                % {"fault": e.faultString}) from None
    except xmlrpc.client.ProtocolError as e:
        if not e.errcode:
            logger.warning("cluster status: master at %s: %s", url, e.errmsg)
            raise MasterUnavailable(_("The master node's answer is not XML-RPC (%(error)s).")
                                    % {"error": e.errmsg}) from None
        logger.warning("cluster status: master at %s answered HTTP %d", url, e.errcode)
        answer = {"code": e.errcode, "error": e.errmsg}
        raise MasterUnavailable(
            _("The master node answered HTTP %(code)s %(error)s (is shared_secret the same as "
              "the master's?).") % answer if e.errcode == 401
            else _("The master node answered HTTP %(code)s %(error)s.") % answer) from None
    except OSError as e:
        logger.warning("cluster status: master at %s unreachable: %s", url, e)
        raise MasterUnavailable(_("The master node at %(host)s:%(port)s cannot be reached "
                                  "(%(error)s).") % {"host": master["host"], "port": master["port"],
                                                     "error": e or type(e).__name__}) from None
    return _with_usage(status)


def _with_usage(status):
    if not isinstance(status, dict):
        raise MasterUnavailable(_("The master node sent a status this site does not understand."))
    now = time.time()
    workers = []
    for worker in status.get("workers") or []:
        if not isinstance(worker, dict):
            continue
        max_slots = worker.get("max_slots") or 0
        used = max_slots - (worker.get("free_slots") or 0)
        last = worker.get("last_heartbeat")
        workers.append({
            **worker,
            "used_slots": used,
            "usage_percent": round(100 * used / max_slots) if max_slots else 0,
            "heartbeat_age": round(now - last, 1) if isinstance(last, int | float) else None,
        })
    workers.sort(key=lambda w: (str(w.get("hostname")), w.get("port") or 0))
    queue = status.get("queue") or {}
    champions = queue.get("champions") or {}
    matches = queue.get("matches") or {}
    # A master older than these figures sends none: the page shows what it has.
    throughput = status.get("throughput") or {}
    summary = {
        "workers": workers,
        # Whether the master has paused dispatching (older masters do not say).
        "paused": status.get("paused"),
        "champions": champions,
        "matches": matches,
        "oldest_waiting_secs": queue.get("oldest_waiting_secs"),
        "throughput": throughput,
        "total_slots": sum(w.get("max_slots") or 0 for w in workers),
        "used_slots": sum(w["used_slots"] for w in workers),
        "workers_up": sum(1 for w in workers if not w.get("problem")),
        "waiting": (champions.get("new") or 0) + sum((matches.get("new") or {}).values()),
    }
    summary["expected_wait"] = expected_wait(summary)
    return summary


def finished_per_minute(throughput):
    """Results applied per minute over the complete minutes of `throughput` (status()'s),
    all kinds together; the minute under way is left out, being partial."""
    minutes = [sum(counts) for counts in zip(
        *(throughput.get(kind) or [] for kind in ("compile", "match")), strict=False)][:-1]
    return sum(minutes) / len(minutes) if minutes else 0.0


def expected_wait(summary):
    """About how many seconds a match a player launches now waits before it starts: the
    tasks ahead of it (compilations, then players' matches) at the rate the cluster
    finished tasks over the last minutes. 0 when none is ahead and slots are free;
    None when no worker takes tasks, or none finished lately to judge by."""
    if not summary["workers_up"]:
        return None
    ahead = (summary["champions"].get("new") or 0) + \
        ((summary["matches"].get("new") or {}).get("player") or 0)
    if not ahead and summary["used_slots"] < summary["total_slots"]:
        return 0
    rate = finished_per_minute(summary["throughput"])
    return round((ahead + 1) / rate * 60) if rate else None
