"""Test helpers for the worker node: a stand-in master, a real worker process, champions.

The worker always runs as a real subprocess (`python -m
stechec.worker_node.main -c FILE -l`) talking signed XML-RPC on loopback to
a stand-in master: a real `RPCServer` in another subprocess, which records
every call in a file. Games are the stand-in scripts of
this directory, champions are compiled by the test player environment in
`player_env/` (both stand-ins until the reference game's land).
"""

import base64
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest
import yaml

from stechec.common import paths
from stechec.common.rpc import RPCClient, server_url
from stechec.worker_node.sandbox import user_processes
from tests.conftest import free_sandbox_uids, wait_for
from tests.worker_node.relay import Relay

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SECRET = "worker-node-test-secret"
GAME = "testgame"



class StandInMaster:
    """The master's RPC methods in a subprocess (standin_master.py), recording every call."""

    def __init__(self, tmp_path):
        self.record = tmp_path / "master-calls.jsonl"
        self.record.touch()
        self.answers = tmp_path / "master-answers.json"
        self.port = None
        self.proc = None

    def start(self, port=0):
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "standin_master.py"), str(port), SECRET,
             str(self.record), str(self.answers)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.strip().isdigit(), "the stand-in master did not start"
        self.port = int(line)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc.stdout.close()

    @property
    def calls(self):
        """(method, args) of every call so far; logs as bytes, as they arrived."""
        return [tuple(json.loads(line, object_hook=_bytes_from_json)) for line in
                self.record.read_text().splitlines() if line.endswith("]")]

    def answer(self, method, task_id, attempt, value):
        """Answer `value` to `method` for that task's attempt (false: a dropped result)."""
        answers = json.loads(self.answers.read_text()) if self.answers.exists() else {}
        answers[f"{method} {task_id} {attempt}"] = value
        temporary = self.answers.with_suffix(".tmp")
        temporary.write_text(json.dumps(answers))
        temporary.replace(self.answers)

    def calls_of(self, method):
        return [args for name, args in list(self.calls) if name == method]

    def result_for(self, method, task_id, attempt=None):
        """Wait for the result of `method` about task `task_id` (that attempt's, when given);
        return its payload."""
        def find():
            found = [args for args in self.calls_of(method) if args[1] == task_id
                     and attempt in (None, args[2])]
            return found[-1][3] if found else None
        return wait_for(find, f"{method} for task {task_id}")


class WorkerProcess:
    """A worker-node daemon run as a real subprocess (`name` tells its files from another's)."""

    def __init__(self, tmp_path, master, overrides, name="", program=None, env=None):
        self.tmp_path = tmp_path
        self.master = master
        # The installed worker-node program to run (this checkout's package by default),
        # and its environment's changes.
        self.program = program or [sys.executable, "-m", "stechec.worker_node.main"]
        self.env = env or {}
        self.contest = tmp_path / "contest"
        self.contest.mkdir(exist_ok=True)
        # Not under tmp_path, which only root may enter: without bubblewrap the
        # sandbox user ids must reach their directories.
        self.work = Path(tempfile.mkdtemp(prefix="stechec-worker-test-"))
        self.work.chmod(0o711)
        self.uids = free_sandbox_uids(64, range(200000, 840000, 64))
        self.first_uid = self.uids.firsts[0]
        config = {
            "master": {"host": "127.0.0.1", "port": master.port, "heartbeat_secs": 0.2,
                       "shared_secret": SECRET, "callback_retry_secs": 120},
            "worker": {"host": "127.0.0.1", "listen": "127.0.0.1", "port": 0,
                       "available_slots": 4},
            "contest": {"directory": str(self.contest), "game": GAME},
            "paths": {"stechec_server": str(HERE / "standin_server.py"),
                      "stechec_client": str(HERE / "standin_client.py"),
                      "player_env": str(HERE / "player_env"),
                      "compile_script": str(ROOT / "share" / "compile-champion.sh"),
                      "work_directory": str(self.work)},
            "match": {"time_ms": 1500, "client_grace_secs": 2},
            "limits": {"client": {"cpu_secs": 5, "wall_secs": 60,
                                  "memory_bytes": 512 * 2**20, "processes": 16},
                       "compilation": {"wall_secs": 120}},
            "sandbox": {"first_uid": self.first_uid},
        }
        _merge(config, overrides)
        # As the site makes it when it starts: the worker takes tasks only then.
        os.makedirs(paths.game_dir(config["contest"]["directory"], config["contest"]["game"]),
                    exist_ok=True)
        self.config = config
        self.config_path = tmp_path / f"worker-node{name}.yml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.log_path = tmp_path / f"worker{name}.log"
        self.proc = None
        self.port = None
        self.rpc = None

    def start(self):
        """Start the worker; return its first heartbeat's arguments, as the master (the
        stand-in, or a relay in front of a real one) recorded them."""
        seen = len(self.master.calls_of("heartbeat"))
        env = dict(os.environ, STECHEC_SYSLOG_SOCKET=str(self.tmp_path / "no-syslog"),
                   **self.env)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [*self.program, "-c", str(self.config_path), "-l", "-v"], cwd=ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT)
        first = wait_for(lambda: next((args for args in self.master.calls_of("heartbeat")[seen:]
                                       if args[1]), None) or self._check_alive(),
                         "the worker's first heartbeat")
        self.port = first[0][1]
        self.rpc = RPCClient(server_url("127.0.0.1", self.port),
                             self.config["master"]["shared_secret"], timeout=30)
        return first

    def _check_alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"the worker exited with {self.proc.returncode}:\n"
                                 + self.log())
        return None

    def stop(self, sig=signal.SIGTERM):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.rpc is not None:
            self.rpc.close()

    def remove_work_directory(self):
        shutil.rmtree(self.work, ignore_errors=True)
        self.uids.release()

    def log(self):
        return self.log_path.read_text(errors="replace")

    def champion_dir(self, user, champion_id):
        """Where the site puts the champion's sources."""
        return Path(paths.champion_dir(str(self.contest), self.config["contest"]["game"], user,
                                       champion_id))

    def champion_outputs(self, user, champion_id):
        """Where its compilation log and build are (its newest published attempt)."""
        return Path(paths.published(str(self.champion_dir(user, champion_id))))

    def match_task_dir(self, match_id):
        return Path(paths.match_dir(str(self.contest), self.config["contest"]["game"],
                                    match_id))

    def match_dir(self, match_id):
        """Where the match's logs, dump and replay are (its newest published attempt)."""
        return Path(paths.published(str(self.match_task_dir(match_id))))

    def upload(self, user, champion_id, files):
        """Write champion.tgz holding `files` ({name: text or bytes}) where the site would."""
        directory = self.champion_dir(user, champion_id)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / paths.CHAMPION_SOURCES).write_bytes(make_tgz(files))
        return directory

    def compile(self, user, champion_id, files=None, attempt=1):
        """Upload (when `files`), compile through RPC, return the compilation_result payload."""
        if files is not None:
            self.upload(user, champion_id, files)
        task = {"champion_id": champion_id, "attempt": attempt, "user": user, "slots": 1}
        assert self.rpc.compile_champion(task) is True
        return self.master.result_for("compilation_result", champion_id, attempt)

    def sandbox_processes(self):
        """Processes still running as one of this worker's sandbox user ids."""
        if os.geteuid() != 0:
            return []
        slots = self.config["worker"]["available_slots"]
        return [pid for uid in range(self.first_uid, self.first_uid + slots)
                for pid in user_processes(uid)]

    def processes_in_work_dir(self):
        """Processes whose command line names a path of this worker's work directory."""
        return processes_naming(str(self.work))

    def wait_idle(self):
        """Wait until the worker holds no task and no program of it runs any more."""
        wait_for(lambda: self.rpc.status()["running"] == [] and
                 self.rpc.status()["free_slots"] == self.config["worker"]["available_slots"],
                 "the worker to be idle")
        wait_for(lambda: not self.sandbox_processes() and not self.processes_in_work_dir(),
                 "every sandboxed process to be gone", timeout=30)


def processes_naming(text):
    """Processes but this one whose command line holds `text`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if text.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def _bytes_from_json(struct):
    """What standin_master.py recorded for bytes, as bytes again."""
    if struct.keys() == {"base64"}:
        return base64.b64decode(struct["base64"])
    return struct


def _merge(base, overrides):
    """Merge `overrides` into `base`; None removes a key (its default applies)."""
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        elif value is None:
            base.pop(key, None)
        else:
            base[key] = value


def make_tgz(files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def master(tmp_path):
    stand_in = StandInMaster(tmp_path)
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def cluster(transactional_db, tmp_path):
    """start(**master_worker_settings) -> (real master, relay, worker behind the relay)."""
    # Imported here: test_sandbox's stand-in worker imports this module without Django.
    from django.db import connection

    from tests.master_node.conftest import SECRET as MASTER_SECRET
    from tests.master_node.conftest import MasterProcess

    started = []

    def start(worker_overrides=None, **worker_settings):
        real = MasterProcess(tmp_path, **worker_settings)
        real.start()
        relay = Relay(real.port)
        overrides = {"master": {"shared_secret": MASTER_SECRET}, **(worker_overrides or {})}
        worker = WorkerProcess(tmp_path, relay, overrides, name="-real")
        started.append((real, relay, worker))
        worker.start()
        return real, relay, worker

    yield start
    for real, relay, worker in started:
        worker.stop()
        worker.remove_work_directory()
        relay.stop()
        real.stop()
        print(real.logs())
    # The master's connections must be gone before the test database is flushed.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture
def start_worker(tmp_path, master):
    """start_worker(**overrides) -> a started WorkerProcess; stopped at the end of the test."""
    started = []

    def start(name="", **overrides):
        worker = WorkerProcess(tmp_path, master, overrides, name)
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
        worker.remove_work_directory()


# The end of a C champion's main() for the stand-in game: answers 7 to every turn.
C_PLAY_LOOP = """
    char line[64];
    while (fgets(line, sizeof line, stdin)) { printf("7\\n"); fflush(stdout); }
    return 0;
"""
C_CHAMPION = "#include <stdio.h>\nint main(void) {" + C_PLAY_LOOP + "}\n"
CPP_CHAMPION = """
#include <iostream>
#include <string>
int main() {
    std::string line;
    while (std::getline(std::cin, line)) std::cout << 6 << std::endl;
}
"""
PYTHON_CHAMPION = """
import sys
for line in sys.stdin:
    print(5, flush=True)
"""
# Plays nothing, until its programs are killed.
SLEEPY_CHAMPION = """
import time
time.sleep(100000)
"""


@pytest.fixture
def check_worker(tmp_path, master):
    """check_worker(archive, **overrides) -> `worker-node --check` of `archive` (bytes) run
    to its end with a worker configuration (WorkerProcess's, with `overrides`): the
    completed process (text output), and the configuration's WorkerProcess. What a failed
    check keeps is removed at the end of the test."""
    kept = []

    def check(archive, *extra, **overrides):
        worker = WorkerProcess(tmp_path, master, overrides, name=f"-check{len(kept)}")
        path = tmp_path / f"checked-{len(kept)}.tgz"
        path.write_bytes(archive)
        run = subprocess.run(
            [sys.executable, "-m", "stechec.worker_node.main", "-c", str(worker.config_path),
             "--check", str(path), *extra], cwd=ROOT, capture_output=True, text=True,
            timeout=600, env=dict(os.environ, STECHEC_SYSLOG_SOCKET=str(tmp_path / "no-syslog")))
        kept.extend(re.findall(r"\(logs kept in (/\S+)\)$", run.stdout, re.M))
        kept.append(str(worker.work))
        return run, worker
    yield check
    for directory in kept:
        shutil.rmtree(directory, ignore_errors=True)
