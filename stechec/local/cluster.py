"""The whole cluster on one machine: site, master and workers as real processes.

`LocalCluster` writes the three configuration files under one directory
(keeping a secret generated on the first run), prepares the database, and
starts gunicorn, master-node and the worker nodes under a `Supervisor`.
tools/run-local and the end-to-end tests both use it, so the tests run the
cluster the way a newcomer does.
"""

import compileall
import errno
import json
import os
import secrets
import socket
import sys
import time
import urllib.error
import urllib.request

import yaml

import stechec
from stechec import refgame
from stechec.common import rpc, share
from stechec.local.processes import READY_SECS, Service, Supervisor
from stechec.local.uids import SandboxUids


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_taken(port, host="127.0.0.1"):
    """Whether a program listens on `port` already: a bind as the servers do it fails."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def http_ready(url):
    def ready():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status < 500
        except urllib.error.HTTPError as e:
            return e.code < 500
        except OSError:
            return False
    return ready


def rpc_ready(url, secret):
    client = rpc.RPCClient(url, secret, timeout=2)

    def ready():
        try:
            client.status()
            return True
        except OSError:
            return False
    return ready


def compile_game_runtime():
    """Write the bytecode of the bundled game runtime next to its sources, once.

    Its servers and clients run in the sandbox, as users that cannot write the
    source tree: without this (or when PYTHONDONTWRITEBYTECODE keeps everyone
    else from writing it) each of them compiles the game's sources again as it
    starts, three programs a match.
    """
    compileall.compile_file(stechec.__file__, quiet=1)
    compileall.compile_dir(os.path.dirname(refgame.__file__), quiet=1)


class LocalCluster:
    """Configuration and processes of a cluster whose state lives under `var_dir`.

    `sql` is the `sql` section (SQLite in var_dir by default); `workers` and
    `slots` size the worker nodes; ports default to free ones. Each worker's
    sandbox user ids are the first free range from `first_uid` on
    (stechec.local.uids), kept from other local clusters until `stop()`.
    `engine` (a stechec.local.engine.EngineGame) runs the game on the upstream
    engine rather than on the bundled runtime. `worker_settings` adds sections
    to every worker's configuration (say {"match": {"time_ms": 3000}}), a
    section's keys over the defaults here and the engine's. `metrics` serves every
    program's Prometheus metrics (`metrics_urls`), the site's to loopback.
    """

    def __init__(self, var_dir, *, game="tictactoe", nb_players=2, sql=None, workers=2,
                 slots=None, site_port=None, master_port=None, worker_ports=None,
                 heartbeat_secs=1.0, worker_timeout_secs=5.0, worker_hosts=None,
                 master_listen="127.0.0.1", first_uid=62000, worker_settings=None,
                 engine=None, metrics=False):
        self.var_dir = os.path.abspath(var_dir)
        self.game = engine.game if engine else game
        self.engine = engine
        self.nb_players = nb_players
        self.sql = sql or {"engine": "sqlite",
                           "database": os.path.join(self.var_dir, "stechec.sqlite3")}
        self.slots = slots or max(2, 1 + nb_players)
        self.site_port = site_port or free_port()
        self.master_port = master_port or free_port()
        self.worker_ports = worker_ports or [free_port() for _ in range(workers)]
        # Per worker: None (loopback) or a devtools.netns.TestHost.
        self.worker_hosts = worker_hosts or [None] * len(self.worker_ports)
        self.heartbeat_secs = heartbeat_secs
        self.worker_timeout_secs = worker_timeout_secs
        self.master_listen = master_listen
        self.worker_settings = worker_settings or {}
        self.metrics_ports = ({"master-node": free_port(),
                               **{f"worker-node-{i + 1}": free_port()
                                  for i in range(len(self.worker_ports))}}
                              if metrics else {})
        # Each worker's sandbox user ids: a range of its own (workers refuse to share).
        self.sandbox_uids = SandboxUids(len(self.worker_ports), self.slots, first_uid,
                                        stride=max(1000, self.slots))
        self.first_uids = self.sandbox_uids.firsts
        self.shared_dir = os.path.join(self.var_dir, "shared")
        self.secret = self._secret()
        self.supervisor = Supervisor()
        self.workers = {}

    @property
    def url(self):
        return f"http://127.0.0.1:{self.site_port}/"

    @property
    def master_url(self):
        return rpc.server_url("127.0.0.1", self.master_port)

    def metrics_urls(self):
        """{program: URL of its Prometheus metrics}: empty unless made with `metrics`."""
        if not self.metrics_ports:
            return {}
        hosts = {f"worker-node-{i + 1}": host.address
                 for i, host in enumerate(self.worker_hosts) if host}
        return {"website": f"{self.url}metrics",
                **{program: f"http://{hosts.get(program, '127.0.0.1')}:{port}/metrics"
                   for program, port in self.metrics_ports.items()}}

    def ports(self):
        """(port, program) for each port its programs listen on."""
        return [(self.site_port, "the website"), (self.master_port, "the master node"),
                *((port, f"worker-node-{index + 1}")
                  for index, port in enumerate(self.worker_ports))]

    def taken_port(self):
        """The first (port, program) of its ports that something on loopback holds, or None."""
        return next(((port, program) for port, program in self.ports() if port_taken(port)),
                    None)

    def path(self, *parts):
        return os.path.join(self.var_dir, *parts)

    def _secret(self):
        """A secret generated once and kept, so that a second run keeps its sessions."""
        os.makedirs(self.var_dir, exist_ok=True)
        path = os.path.join(self.var_dir, "secrets.json")
        try:
            with open(path) as f:
                return json.load(f)["shared_secret"]
        except FileNotFoundError:
            value = secrets.token_urlsafe(32)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as f:
                json.dump({"shared_secret": value, "secret_key": secrets.token_urlsafe(50)}, f)
            return value

    def _secret_key(self):
        with open(self.path("secrets.json")) as f:
            return json.load(f)["secret_key"]

    def write_configs(self):
        os.makedirs(self.shared_dir, exist_ok=True)
        self._write("website.yml", {
            "website": {"secret_key": self._secret_key(), "debug": False,
                        "allowed_hosts": ["localhost", "127.0.0.1"],
                        "static_root": self.path("static"),
                        **({"metrics_allowed_from": ["127.0.0.1/32"]} if self.metrics_ports
                           else {})},
            "sql": self.sql,
            "master": {"host": "127.0.0.1", "port": self.master_port,
                       "shared_secret": self.secret},
            "contest": {"game": self.game, "nb_players": self.nb_players,
                        "directory": self.shared_dir},
        })
        self._write("master-node.yml", {
            "master": {"host": self.master_listen, "port": self.master_port,
                       "shared_secret": self.secret, "game": self.game,
                       **self._metrics_port("master-node")},
            "worker": {"timeout_secs": self.worker_timeout_secs},
            "sql": self.sql,
            "dispatch": {"poll_secs": 0.5},
        })
        for index, port in enumerate(self.worker_ports):
            host = self.worker_hosts[index]
            document = {
                "master": {"host": host.root_address if host else "127.0.0.1",
                           "port": self.master_port, "shared_secret": self.secret,
                           "heartbeat_secs": self.heartbeat_secs},
                "worker": {"host": host.address if host else "127.0.0.1",
                           "listen": host.address if host else "127.0.0.1",
                           "port": port, "available_slots": self.slots,
                           **self._metrics_port(f"worker-node-{index + 1}")},
                "contest": {"directory": self.shared_dir, "game": self.game},
                "sandbox": {"first_uid": self.first_uids[index]},
            }
            sections = self.engine.worker_sections() if self.engine else {}
            for section, keys in [*sections.items(), *self.worker_settings.items()]:
                document[section] = {**document.get(section, {}), **keys}
            self._write(f"worker-node-{index + 1}.yml", document)

    def _metrics_port(self, program):
        """The `metrics_port` key of `program`'s section, when metrics are served."""
        return {"metrics_port": self.metrics_ports[program]} if self.metrics_ports else {}

    def _write(self, name, document):
        header = ("# Written by stechec.local (tools/run-local) for a cluster on one machine;\n"
                  "# rewritten on each run. The samples in share/ document every key.\n")
        temporary = self.path(f".{name}.tmp")
        with open(temporary, "w") as f:
            f.write(header + yaml.safe_dump(document, sort_keys=False))
        os.replace(temporary, self.path(name))

    def environment(self):
        env = dict(os.environ, STECHEC_WEBSITE_CONFIG=self.path("website.yml"),
                   DJANGO_SETTINGS_MODULE="stechec.www.settings", PYTHONUNBUFFERED="1")
        env.pop("STECHEC_SYSLOG_SOCKET", None)
        return env

    def manage(self, *args):
        """Run a stechec-manage command against this cluster's site."""
        import subprocess
        subprocess.run([sys.executable, "-m", "stechec.www.manage", *args],
                       env=self.environment(), check=True, timeout=600)

    def start(self):
        """Start every program, overlapping their start-ups; return once all answer.

        The workers start once the master answers, so that their first
        heartbeat finds it (rather than logging it unreachable).
        """
        compile_game_runtime()
        env = self.environment()
        website = Service(
            "website", [sys.executable, "-m", "gunicorn", "--config",
                        os.path.join(share.share_dir(), "gunicorn", "gunicorn.conf.py"),
                        "--bind", f"127.0.0.1:{self.site_port}", "--workers", "3",
                        "stechec.www.wsgi:application"],
            self.path("logs", "website.log"), env=env, ready=http_ready(self.url))
        master = Service(
            "master-node", [sys.executable, "-m", "stechec.master_node.main", "-l",
                            "-c", self.path("master-node.yml")],
            self.path("logs", "master-node.log"), env=env,
            ready=rpc_ready(self.master_url, self.secret))
        self.supervisor.launch(website, master)
        master.wait_ready(READY_SECS)
        workers = [self.worker_service(index) for index in range(len(self.worker_ports))]
        self.supervisor.start(*workers)
        self.workers.update(enumerate(workers))
        website.wait_ready(READY_SECS)

    def webhook_sender(self):
        """`stechec-manage send_webhooks` for this cluster's site (docs/webhooks.md): once
        the database is migrated."""
        return Service(
            "webhooks", [sys.executable, "-m", "stechec.www.manage", "send_webhooks"],
            self.path("logs", "webhooks.log"), env=self.environment())

    def worker_service(self, index):
        host = self.worker_hosts[index]
        argv = [sys.executable, "-m", "stechec.worker_node.main", "-l",
                "-c", self.path(f"worker-node-{index + 1}.yml")]
        address = host.address if host else "127.0.0.1"
        return Service(
            f"worker-node-{index + 1}", host.command(argv) if host else argv,
            self.path("logs", f"worker-node-{index + 1}.log"), env=self.environment(),
            ready=rpc_ready(rpc.server_url(address, self.worker_ports[index]), self.secret))

    def start_worker(self, index):
        self.workers[index] = self.worker_service(index)
        self.supervisor.start(self.workers[index])
        return self.workers[index]

    def wait_for_workers(self, count, timeout=60):
        """Wait until the master has heard `count` workers."""
        client = rpc.RPCClient(self.master_url, self.secret, timeout=5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(client.status()["workers"]) >= count:
                return
            time.sleep(0.2)
        raise TimeoutError(f"the master knows fewer than {count} workers after {timeout} s")

    def stop(self):
        self.supervisor.stop()
        self.sandbox_uids.release()
