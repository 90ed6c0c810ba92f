"""A signed RPC server in its own process, for the RPC tests.

Prints its port on stdout, then serves until stdin closes.
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

import gevent  # noqa: E402

from stechec.common.rpc import RPCError, RPCServer  # noqa: E402

touched = []


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


def sleep(secs):
    gevent.sleep(secs)
    return "slept"


def main():
    server = RPCServer(sys.argv[1], "test-server")
    for function in (echo, touch, touches, refuse, crash, sleep):
        server.register(function)
    server.serve("127.0.0.1", 0)
    print(server.port, flush=True)
    gevent.get_hub().threadpool.spawn(sys.stdin.read).get()
    server.stop()


main()
