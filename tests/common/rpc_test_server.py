"""A signed RPC server in its own process, for the RPC tests.

  rpc_test_server.py SECRET [--idle-secs S] [--request-secs S]

Prints its port on stdout, then serves until stdin closes. `--idle-secs` and
`--request-secs` shorten the server's timeouts.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402

from stechec.common import rpc  # noqa: E402
from stechec.common.rpc import RPCError, RPCServer  # noqa: E402

touched = []
held = []
released = gevent.event.Event()


def echo(value):
    return value


def touch(tag):
    touched.append(tag)
    return len(touched)


def touches():
    return touched


def refuse(reason):
    raise RPCError(reason)


def crash():
    return 1 / 0


def hold():
    """Answers only once `release` was called."""
    held.append(True)
    released.wait()
    return "released"


def holding():
    return len(held)


def release():
    released.set()
    return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("secret")
    parser.add_argument("--idle-secs", type=float, default=rpc.IDLE_SECS)
    parser.add_argument("--request-secs", type=float, default=rpc.REQUEST_SECS)
    args = parser.parse_args()
    rpc.IDLE_SECS, rpc.REQUEST_SECS = args.idle_secs, args.request_secs
    server = RPCServer(args.secret, "test-server")
    for function in (echo, touch, touches, refuse, crash, hold, holding, release):
        server.register(function)
    listener = server.serve("127.0.0.1", 0)
    print(server.port, flush=True)
    gevent.get_hub().threadpool.spawn(sys.stdin.read).get()
    listener.stop()


main()
