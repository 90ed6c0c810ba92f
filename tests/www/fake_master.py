"""A stand-in master node for the status page's tests: a real signed RPCServer
whose `status()` returns the document given as JSON on the command line.

    python -m tests.www.fake_master SECRET STATUS_JSON   (prints its port, then serves)
"""

import json
import sys

import gevent

from stechec.common.rpc import RPCError, RPCServer


def main():
    secret, document = sys.argv[1], json.loads(sys.argv[2])
    server = RPCServer(secret, "fake-master")

    def status():
        if document is None:
            raise RPCError("status is switched off")
        return document

    server.register(status)
    server.serve("127.0.0.1", 0)
    print(server.port, flush=True)
    gevent.wait()


if __name__ == "__main__":
    main()
