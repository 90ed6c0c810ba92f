"""The README's quick start: ./tools/run-local sets up, serves, stops cleanly, keeps its data."""

import json
import os
import random
import re
import signal
import subprocess
import urllib.request

from stechec.common import rpc
from stechec.local.cluster import free_port
from tests.conftest import wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ACCOUNT = re.compile(r"^  (\w+) +password (\S+) ", re.M)


class RunLocal:
    """./tools/run-local as a subprocess, its output collected in a file."""

    def __init__(self, var, site_port, master_port):
        self.output_path = os.path.join(var, "run-local.out")
        os.makedirs(var, exist_ok=True)
        with open(self.output_path, "w") as output:
            self.process = subprocess.Popen(
                [os.path.join(ROOT, "tools", "run-local"), "--var", var,
                 "--port", str(site_port), "--master-port", str(master_port), "--slots", "2"],
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                env=dict(os.environ, STECHEC_SYSLOG_SOCKET="/nonexistent"))

    def output(self):
        with open(self.output_path) as f:
            return f.read()

    def wait_serving(self):
        def serving():
            assert self.process.poll() is None, self.output()
            return "Ctrl-C stops everything" in self.output()
        wait_for(serving, "run-local to serve", timeout=300)

    def interrupt(self):
        """Ctrl-C, as in a terminal: SIGINT to the whole foreground group."""
        os.killpg(self.process.pid, signal.SIGINT)
        assert self.process.wait(120) == 0, self.output()


def processes_using(var):
    """PIDs whose command line or environment names `var` (where the configuration is)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        for part in ("cmdline", "environ"):
            try:
                with open(f"/proc/{pid}/{part}", "rb") as f:
                    named = var.encode() in f.read()
            except OSError:
                continue
            if named:
                found.append(int(pid))
                break
    return found


def test_run_local_serves_the_cluster_stops_everything_and_keeps_its_data(tmp_path):
    var = str(tmp_path / "var")
    site_port = free_port()
    # The workers take the two ports after the master's.
    master_port = random.randrange(20000, 29000, 10)
    first = RunLocal(var, site_port, master_port)
    first.wait_serving()
    accounts = dict(ACCOUNT.findall(first.output()))
    assert set(accounts) == {"organiser", "alice", "bob"}
    assert "sample champions of tictactoe" in first.output()
    with urllib.request.urlopen(f"http://127.0.0.1:{site_port}/", timeout=30) as page:
        assert page.status == 200
    with open(os.path.join(var, "secrets.json")) as f:
        secret = json.load(f)["shared_secret"]
    master = rpc.RPCClient(rpc.server_url("127.0.0.1", master_port), secret, timeout=10)
    wait_for(lambda: len(master.status()["workers"]) == 2, "both workers to join")
    first.interrupt()
    assert "stopping every process it started" in first.output()
    assert processes_using(var) == []

    second = RunLocal(var, site_port, master_port)
    second.wait_serving()
    second.interrupt()
    assert dict(ACCOUNT.findall(second.output())) == accounts
    assert "sample champions" not in second.output()
    assert processes_using(var) == []
