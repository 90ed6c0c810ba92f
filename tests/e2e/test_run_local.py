"""The README's quick start: ./tools/run-local sets up, serves, stops cleanly, keeps its data.

Each test runs tools/run-local itself, as a newcomer does, in a directory of
its own; whatever a test leaves running is killed when it ends.
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import urllib.request

import pytest
import yaml

from stechec.common import rpc
from stechec.local.cluster import free_port
from stechec.worker_node.sandbox import user_processes
from tests.conftest import require_root, wait_for
from tests.e2e.client import PlayerSession

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_LOCAL = os.path.join(ROOT, "tools", "run-local")
SAMPLES = os.path.join(ROOT, "share", "champions", "tictactoe")
ACCOUNT = re.compile(r"^  (\w+) +password (\S+) ", re.M)
SLOTS = 2


class RunLocal:
    """./tools/run-local as a subprocess in its own session, its output collected in a file.

    `from_script` starts it as a script's background job (`run-local &` in a
    bash script), which starts it with SIGINT ignored.
    """

    def __init__(self, var, site_port, master_port, *options, from_script=False):
        self.var = var
        self.site_port = site_port
        self.master_port = master_port
        self.from_script = from_script
        self.output_path = os.path.join(var, "run-local.out")
        os.makedirs(var, exist_ok=True)
        argv = [RUN_LOCAL, "--var", var, "--port", str(site_port),
                "--master-port", str(master_port), "--slots", str(SLOTS), *options]
        if from_script:
            argv = ["bash", "-c", '"$@" & wait $!', "bash", *argv]
        with open(self.output_path, "w") as output:
            self.process = subprocess.Popen(
                argv, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                env=dict(os.environ, STECHEC_SYSLOG_SOCKET="/nonexistent"))

    @property
    def pid(self):
        """run-local's own process (bash's only child when run from a script)."""
        if not self.from_script:
            return self.process.pid

        def child():
            with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as f:
                return f.read().split()
        return int(wait_for(child, "the script's background job")[0])

    def output(self):
        with open(self.output_path) as f:
            return f.read()

    def wait_serving(self):
        def serving():
            assert self.process.poll() is None, self.output()
            return "Ctrl-C stops everything" in self.output()
        wait_for(serving, "run-local to serve", timeout=300)

    def accounts(self):
        return dict(ACCOUNT.findall(self.output()))

    def master(self):
        with open(os.path.join(self.var, "secrets.json")) as f:
            secret = json.load(f)["shared_secret"]
        return rpc.RPCClient(rpc.server_url("127.0.0.1", self.master_port), secret, timeout=10)

    def wait_for_workers(self, count):
        wait_for(lambda: len(self.master().status()["workers"]) == count,
                 f"{count} workers to join")

    def interrupt(self):
        """Ctrl-C, as in a terminal: SIGINT to the whole foreground group."""
        os.killpg(self.process.pid, signal.SIGINT)
        assert self.process.wait(120) == 0, self.output()

    def sandbox_uids(self):
        """The user ids its workers' sandboxes run programs as (from their configurations)."""
        uids = []
        for name in os.listdir(self.var):
            if re.fullmatch(r"worker-node-\d+\.yml", name):
                with open(os.path.join(self.var, name)) as f:
                    first = yaml.safe_load(f)["sandbox"]["first_uid"]
                uids.extend(range(first, first + SLOTS))
        return uids

    def leftovers(self):
        """Its processes still alive: its programs, and the programs they sandboxed."""
        return processes_using(self.var) + [pid for uid in self.sandbox_uids()
                                            for pid in user_processes(uid)]

    def wait_gone(self):
        """Until none of its processes is left (a sandboxed program's guard may be
        killing it as run-local exits)."""
        wait_for(lambda: self.leftovers() == [], "its processes to end", timeout=120)

    def kill(self):
        """SIGKILL whatever is left of it (after a failed test)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for pid in self.leftovers():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


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


def master_port():
    """A master port whose next ten ports (the workers') are very likely free too."""
    return random.randrange(20000, 29000, 10)


@pytest.fixture
def run_local(tmp_path):
    """A function starting ./tools/run-local (RunLocal's arguments, `var` under tmp_path)."""
    started = []

    def start(var, *args, **options):
        started.append(RunLocal(str(tmp_path / var), *args, **options))
        return started[-1]
    yield start
    for run in started:
        run.kill()


def test_run_local_serves_the_cluster_stops_everything_and_keeps_its_data(run_local):
    site_port, port = free_port(), master_port()
    first = run_local("var", site_port, port)
    first.wait_serving()
    accounts = first.accounts()
    assert set(accounts) == {"organiser", "alice", "bob"}
    assert "sample champions of tictactoe" in first.output()
    with urllib.request.urlopen(f"http://127.0.0.1:{site_port}/", timeout=30) as page:
        assert page.status == 200
    first.wait_for_workers(2)
    # The samples seeded for alice are not her uploads: she may upload at once.
    alice = PlayerSession(f"http://127.0.0.1:{site_port}/")
    alice.log_in("alice", accounts["alice"])
    alice.upload("mine", os.path.join(SAMPLES, "c-good"))
    first.interrupt()
    assert "stopping every process it started" in first.output()
    first.wait_gone()

    second = run_local("var", site_port, port)
    second.wait_serving()
    second.interrupt()
    assert second.accounts() == accounts
    assert "sample champions" not in second.output()
    second.wait_gone()


def test_sigint_stops_it_as_a_background_job_of_a_script(run_local):
    run = run_local("var", free_port(), master_port(), "--workers", "1", from_script=True)
    run.wait_serving()

    os.kill(run.pid, signal.SIGINT)   # as the script's `kill -INT $!` would

    assert run.process.wait(120) == 0, run.output()
    assert "stopping every process it started" in run.output()
    run.wait_gone()


def test_killed_outright_it_takes_its_programs_with_it(run_local):
    site_port, port = free_port(), master_port()
    first = run_local("var", site_port, port)
    first.wait_serving()
    first.wait_for_workers(2)

    os.kill(first.pid, signal.SIGKILL)
    first.process.wait()

    first.wait_gone()
    # Nothing holds its ports: the next run serves on them, with its own master.
    second = run_local("var", site_port, port)
    second.wait_serving()
    second.wait_for_workers(2)
    second.interrupt()
    second.wait_gone()


def test_a_port_in_use_is_named_before_anything_starts(run_local):
    port = master_port()
    with socket.create_server(("127.0.0.1", port)):
        run = run_local("var", free_port(), port)
        assert run.process.wait(120) == 1, run.output()
    lines = run.output().splitlines()
    assert lines[-1].startswith(f"run-local: port {port} (the master node's) is already in use")
    # Before anything: no configuration written, nothing started.
    assert "configuration in" not in run.output()
    assert not os.path.exists(os.path.join(run.var, "website.yml"))
    assert not os.path.exists(os.path.join(run.var, "logs"))


def test_two_local_clusters_run_side_by_side(run_local):
    require_root("only root's workers take sandbox user ids")
    port = master_port()
    first = run_local("first", free_port(), port)
    # Other ports; the same sandbox user ids unless it picks its own.
    second = run_local("second", free_port(), port + 10)
    for run in (first, second):
        run.wait_serving()
        run.wait_for_workers(2)
    assert not set(first.sandbox_uids()) & set(second.sandbox_uids())
    for run in (first, second):
        run.interrupt()
        run.wait_gone()


def test_no_worker_is_a_cluster_too(run_local):
    site_port = free_port()
    run = run_local("var", site_port, master_port(), "--workers", "0")
    run.wait_serving()
    assert "no worker node (--workers 0)" in run.output()
    with urllib.request.urlopen(f"http://127.0.0.1:{site_port}/", timeout=30) as page:
        assert page.status == 200
    assert run.master().status()["workers"] == []
    run.interrupt()
    run.wait_gone()


def test_help_and_a_wrong_option_answer_without_building_the_venv(tmp_path):
    # What a fresh clone has of it: no .venv.
    clone = tmp_path / "clone"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for part in ("tools", "stechec"):
        shutil.copytree(os.path.join(ROOT, part), clone / part, ignore=ignore)
    for name in ("setup.cfg", "pyproject.toml"):
        shutil.copy(os.path.join(ROOT, name), clone / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "VIRTUAL_ENV")}

    def run_local(*args):
        return subprocess.run([str(clone / "tools" / "run-local"), *args], env=env,
                              capture_output=True, text=True, timeout=300)

    shown = run_local("--help")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: run-local")
    assert "--workers" in shown.stdout
    wrong = run_local("--workers", "-1")
    assert wrong.returncode == 2
    assert wrong.stderr.splitlines()[-1] == (
        "run-local: error: argument --workers: takes 0 or more, not -1")
    no_engine = run_local("--engine", str(tmp_path / "none"))
    assert no_engine.returncode == 2
    assert no_engine.stderr.splitlines()[-1] == (
        f"run-local: error: argument --engine: {tmp_path / 'none'} is not a directory")
    no_game = run_local("--engine", str(tmp_path), "--game", "chess")
    assert no_game.stderr.splitlines()[-1].startswith(
        f"run-local: error: argument --engine: {tmp_path} has no bin/stechec2-server")
    unbundled = run_local("--game", "chess")
    assert unbundled.stderr.splitlines()[-1] == (
        "run-local: error: argument --game: the bundled runtime plays tictactoe or goldrush, "
        "not 'chess' (--engine runs another game)")
    assert not (clone / ".venv").exists()
