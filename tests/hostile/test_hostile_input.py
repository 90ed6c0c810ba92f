"""tools/chaos --input: the whole run against a real cluster finds nothing, and can find things.

The run is the module as `tools/chaos --input` execs it; the checks of its
counting use its parts against a node that accepts everything.
"""

import os
import subprocess
import sys

from devtools import hostile_rpc
from devtools.hostile_input import Tally
from tests.common.test_rpc import SECRET
from tests.conftest import ROOT, require_root, require_tool

COUNTS = "inputs={} crashes=0 accepted_bad=0 leaked=0"


def test_hostile_input_is_refused_by_the_whole_cluster(tmp_path):
    require_tool("bwrap", "the hostile champions are confined by bubblewrap")
    require_tool("gcc", "the hostile champions are C programs")
    require_root("each champion runs as a user id of its own, which bounds the fork bomb")
    run = subprocess.run([sys.executable, "-m", "devtools.hostile_input",
                          "--keep", str(tmp_path / "cluster")],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    last = run.stdout.strip().splitlines()[-1]
    inputs = int(last.split()[0].removeprefix("inputs="))
    assert last == COUNTS.format(inputs), run.stdout[-5000:] + run.stderr[-5000:]
    assert inputs > 400
    assert run.returncode == 0


def test_an_accepted_call_and_an_internal_error_are_counted():
    """Against a server whose `echo` takes anything and whose `crash` raises."""
    server = subprocess.Popen(
        [sys.executable, os.path.join(os.path.dirname(__file__), os.pardir, "common",
                                      "rpc_test_server.py"), SECRET],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        tally = Tally()
        node = hostile_rpc.RawRPC(f"http://127.0.0.1:{port}/", SECRET)
        hostile_rpc.attack(tally, "test server", node, {
            "echo of anything": hostile_rpc.call_body("echo", "../.."),
            "a method that raises": hostile_rpc.call_body("crash"),
            "a method that refuses": hostile_rpc.call_body("refuse", "no")})
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    assert (tally.crashes, tally.accepted, tally.leaks) == (1, 1, 0)
    assert tally.inputs == len(list(hostile_rpc.transport_attacks(node))) + 3
    assert not tally.clean
