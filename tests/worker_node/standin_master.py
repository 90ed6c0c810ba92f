"""TEST STAND-IN for the master node: its RPC methods, recording every call.

Run as `python standin_master.py PORT SECRET RECORD_FILE ANSWERS_FILE`:
serves signed XML-RPC (stechec.common.rpc under gevent) on 127.0.0.1:PORT
(0: any free port, printed on stdout), answers `heartbeat`,
`compilation_result` and `match_done`, and appends each call to RECORD_FILE
as a JSON line `[method, args]`. Results get true, or what ANSWERS_FILE (a
JSON object, read at each call when it exists) says for
"<method> <task id> <attempt>": false for a result the real master would
drop. Bytes (logs, which arrive as base64) are recorded as {"base64": text}. It has no `task_results`, as a master from before that method. A
separate process, so that stopping it closes its connections the way a
master that exits does.
"""

from gevent import monkey

monkey.patch_all()

import base64  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402

from stechec.common.rpc import RPCServer  # noqa: E402


def main():
    port, secret, record, answers = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    server = RPCServer(secret, "stand-in master")
    for name in ("heartbeat", "compilation_result", "match_done"):
        server.register(_recorder(name, record, answers), name)
    server.serve("127.0.0.1", port)
    print(server.port, flush=True)
    gevent.wait()


def _recorder(name, record, answers):
    def record_call(*args):
        with open(record, "a") as f:
            f.write(json.dumps([name, args], default=_bytes_as_json) + "\n")
        if name == "heartbeat" or not os.path.exists(answers):
            return True
        with open(answers) as f:
            return json.load(f).get(f"{name} {args[1]} {args[2]}", True)
    return record_call


def _bytes_as_json(value):
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"{type(value).__name__} in a call")


if __name__ == "__main__":
    main()
