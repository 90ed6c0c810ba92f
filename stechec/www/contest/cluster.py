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
    return {"workers": workers,
            # Whether the master has paused dispatching (older masters do not say).
            "paused": status.get("paused"),
            "champions": queue.get("champions") or {},
            "matches": queue.get("matches") or {},
            "total_slots": sum(w.get("max_slots") or 0 for w in workers),
            "used_slots": sum(w["used_slots"] for w in workers)}
