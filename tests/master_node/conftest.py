"""A real master-node process on the test database, and simulated workers beside it.

The master runs as `python -m stechec.master_node.main`; the workers are
tools/simulated-workers (real signed RPC servers on loopback ports). Both
are real processes, so that a test can kill them with SIGKILL.
"""

import json
import os
import re
import signal
import subprocess
import sys

import pytest
from django.contrib.auth.models import User
from django.db import connection

from stechec.contest.models import Champion, Match
from tests.conftest import wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRET = "test-master-secret"



def master_yml(port, extra="", sql_port=None, metrics=False, **worker):
    """`sql_port` replaces PostgreSQL's port (a relay's); `metrics` serves them on any
    free port."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        sql = f"  engine: sqlite\n  database: {settings['NAME']}\n"
    else:
        sql = (f"  engine: postgresql\n  host: {settings['HOST']}\n"
               f"  port: {sql_port or settings['PORT']}\n"
               f"  user: {settings['USER']}\n  password: \"{settings['PASSWORD']}\"\n"
               f"  database: {settings['NAME']}\n")
    # A busy machine may hold up a simulated worker's heartbeat or answer for seconds: only
    # the tests of a lost worker give the master less patience, and say how much.
    worker_settings = {"timeout_secs": 60.0, "max_task_tries": 3, "retry_delay_secs": 0.1,
                       "compilation_deadline_secs": 60.0, "match_deadline_secs": 60.0,
                       "client_slots": 1, "rpc_timeout_secs": 60.0, **worker}
    return (f"master:\n  host: 127.0.0.1\n  port: {port}\n  shared_secret: {SECRET}\n"
            f"  game: tictactoe\n" + ("  metrics_port: 0\n" if metrics else "") +
            "worker:\n" + "".join(f"  {k}: {v}\n" for k, v in worker_settings.items()) +
            f"sql:\n{sql}"
            "dispatch:\n  poll_secs: 0.2\n  batch_size: 50\n  connections: 3\n" + extra)


class MasterProcess:
    def __init__(self, directory, extra="", sql_port=None, syslog=None, metrics=False,
                 **worker):
        """`syslog` (a SyslogReceiver) gets its records, which go to its log file too."""
        self.directory = directory
        self.metrics = metrics
        self.metrics_url = None
        self.syslog = syslog
        self.extra = extra
        self.sql_port = sql_port
        self.worker = worker
        self.port = 0
        self.process = None
        self.starts = 0

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/"

    def start(self):
        """Start (again, on the same port after the first time) and wait until it listens."""
        self.starts += 1
        config = self.directory / "master-node.yml"
        config.write_text(master_yml(self.port, self.extra, self.sql_port, self.metrics,
                                     **self.worker))
        self.log = self.directory / f"master-{self.starts}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "stechec.master_node.main", "-c", str(config), "-l", "-v"],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                env=dict(os.environ, STECHEC_SYSLOG_SOCKET=self.syslog.path if self.syslog
                         else str(self.directory / "no-syslog")))
        match = wait_for(lambda: self._listening(), "the master to listen")
        self.port = int(match.group(1))
        if self.metrics:
            found = wait_for(lambda: re.search(r"metrics at (http://\S+)", self.log.read_text()),
                             "the master to serve its metrics")
            self.metrics_url = found.group(1)

    def _listening(self):
        if self.process.poll() is not None:
            raise AssertionError(f"master-node exited with {self.process.returncode}:\n"
                                 f"{self.log.read_text()}")
        return re.search(r"listening on 127\.0\.0\.1:(\d+)", self.log.read_text())

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.kill()

    def logs(self):
        return "".join(p.read_text() for p in sorted(self.directory.glob("master-*.log")))


class WorkerProcess:
    """tools/simulated-workers: `count` simulated workers in one process."""

    def __init__(self, directory, master, name, *, count=1, slots=4, delay=0.0, hold=False,
                 single=False, busy=0, hold_until=None):
        """`hold_until`: a path; tasks are reported once it exists."""
        self.record = directory / f"{name}.jsonl"
        ready = directory / f"{name}.ports"
        command = [sys.executable, os.path.join(ROOT, "tools", "simulated-workers"),
                   "--master", master.url, "--secret", SECRET, "--count", str(count),
                   "--slots", str(slots), "--busy", str(busy), "--delay", str(delay),
                   "--heartbeat-secs", "0.5",
                   "--record", str(self.record), "--ready", str(ready)]
        if hold:
            command.append("--hold")
        if hold_until:
            command += ["--hold-until", str(hold_until)]
        if single:
            command.append("--single")
        self.process = subprocess.Popen(command, cwd=ROOT)
        wait_for(ready.exists, f"simulated workers {name} to listen")
        self.names = [f"127.0.0.1:{port}" for port in ready.read_text().split()]

    def events(self, kind=None):
        if not self.record.exists():
            return []
        events = [json.loads(line) for line in self.record.read_text().splitlines()
                  if line.endswith("}")]
        return [e for e in events if kind is None or e["event"] == kind]

    def kill(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def cluster(transactional_db, tmp_path):
    """Starts a master and simulated workers on demand; kills them all at the end."""

    class Cluster:
        def __init__(self):
            self.master = None
            self.workers = []

        def start_master(self, extra="", sql_port=None, syslog=None, metrics=False, **worker):
            """`extra` is YAML appended to master-node.yml (more sections)."""
            self.master = MasterProcess(tmp_path, extra, sql_port, syslog, metrics, **worker)
            self.master.start()
            return self.master

        def start_workers(self, name, **options):
            workers = WorkerProcess(tmp_path, self.master, name, **options)
            self.workers.append(workers)
            return workers

    running = Cluster()
    yield running
    for workers in running.workers:
        workers.kill()
    if running.master is not None:
        running.master.stop()
        # Shown by pytest when the test failed.
        print(running.master.logs())
    # The master's connections must be gone before the test database is flushed.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture
def player(transactional_db):
    return User.objects.create_user("player")


def new_champions(author, count):
    return [Champion.queue_for_compilation(name=f"champion {i}", author=author)
            for i in range(count)]


def new_matches(author, count, nb_players=2):
    champions = [Champion.objects.create(name=f"ready {i}", author=author,
                                         status=Champion.Status.READY)
                 for i in range(nb_players)]
    return [Match.launch(champions, author=author) for _ in range(count)]


def all_finished(model, ids, status):
    return model.objects.filter(pk__in=ids, status=status).count() == len(ids)
