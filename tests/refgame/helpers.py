"""Running real reference-game matches: a server and one client per champion,
each a subprocess, as the worker runs them."""

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time

import yaml

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
SHARE = os.path.join(REPO, "share")
# Generous: other test suites share this machine's two cores.
MATCH_TIMEOUT_SECS = 60
SAMPLE_GAMES = ("tictactoe", "goldrush")
# The sample champions of every game: <game>/<language>-<random|good>.
SAMPLE_LANGUAGES = ("c", "cpp", "python")


def build_champion(source_dir, build_dir, lang=None):
    """Build a champion as the worker does: in a copy of its sources,
    `STECHEC_SERVER=1 make -f share/player_env/<lang>/Makefile-<lang> all`.
    Returns the completed `make` process."""
    shutil.copytree(source_dir, build_dir)
    if lang is None:
        with open(os.path.join(source_dir, "_lang")) as f:
            lang = f.read().strip()
    makefile = os.path.join(SHARE, "player_env", lang, f"Makefile-{lang}")
    return subprocess.run(["make", "-f", makefile, "all"], cwd=build_dir, capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, STECHEC_SERVER="1"))


def script_champion(directory, name, body):
    """An executable Python champion written for a test (a sleeper, a crasher...)."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(f"#!{sys.executable}\n" + textwrap.dedent(body))
    os.chmod(path, 0o755)
    return path


def free_tcp_address():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{sock.getsockname()[1]}"


def command(program, *args):
    return [sys.executable, "-m", f"stechec.refgame.{program}", *map(str, args)]


class Match:
    """The outcome of one match: YAML results, dump, logs, exit statuses."""

    def __init__(self, server, clients, workdir, dump):
        self.server_status = server.returncode
        self.stdout = server.stdout_text
        self.server_log = server.stderr_text
        self.client_statuses = [client.returncode for client in clients]
        self.client_pids = [client.pid for client in clients]
        self.client_logs = [client.stderr_text for client in clients]
        self.results = list(yaml.safe_load_all(self.stdout))
        self.dump = None
        if dump and os.path.exists(dump):
            with open(dump) as f:
                self.dump = json.load(f)
        self.workdir = workdir

    def by_name(self):
        return {str(doc["player"]): doc for doc in self.results}

    def scores(self):
        return [doc["score"] for doc in self.results]

    def timeouts(self):
        return [doc["nb_timeout"] for doc in self.results]


def run_match(workdir, game, champions, *, address="ipc", time_ms=5000, map_path=None,
              dump=True, extra_server_args=(), client_ids=None, client_delay=0.0,
              client_maps=None):
    """Run a match between `champions` (paths to executables) and wait for it.
    Their clients' ids are their seats, 0, 1... (or `client_ids`); players are
    named p1, p2... in seat order (p<client id> with `client_ids`). Every client
    gets `map_path` too, or its own entry of `client_maps` (None: no --map)."""
    os.makedirs(workdir, exist_ok=True)
    if address == "ipc":
        address = f"ipc://{os.path.join(workdir, 'match.sock')}"
    elif address == "tcp":
        address = free_tcp_address()
    dump_path = os.path.join(workdir, "dump.json") if dump else None
    server_args = ["--rules", game, "--rep_addr", address, "--pub_addr", address + "-pub",
                   "--nb_clients", len(champions) if client_ids is None else len(client_ids),
                   "--time", time_ms, "--verbose", 2, *extra_server_args]
    if map_path:
        server_args += ["--map", map_path]
    if dump_path:
        server_args += ["--dump", dump_path]
    server = start(command("server", *server_args))
    if client_delay:
        time.sleep(client_delay)
    clients = []
    for seat, champion in enumerate(champions):
        client_id = seat if client_ids is None else client_ids[seat]
        name = f"p{seat + 1}" if client_ids is None else f"p{client_id}"
        args = ["--name", name, "--rules", game, "--champion", champion,
                "--req_addr", address, "--sub_addr", address + "-pub",
                "--client_id", client_id, "--time", time_ms, "--verbose", 2]
        client_map = map_path if client_maps is None else client_maps[seat]
        if client_map:
            args += ["--map", client_map]
        directory = champion if os.path.isdir(champion) else os.path.dirname(champion)
        env = dict(os.environ, CHAMPION_PATH=directory)
        # Each client leads its own process group, as the worker starts them.
        clients.append(start(command("client", *args), env=env, new_group=True))
    for process in [server, *clients]:
        finish(process)
    return Match(server, clients, workdir, dump_path)


def start(cmd, env=None, new_group=False):
    env = dict(os.environ if env is None else env, PYTHONPATH=REPO)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=REPO, process_group=0 if new_group else None)


def finish(process):
    try:
        process.stdout_text, process.stderr_text = process.communicate(
            timeout=MATCH_TIMEOUT_SECS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.stdout_text, process.stderr_text = process.communicate()
        raise AssertionError(f"{process.args} did not end within {MATCH_TIMEOUT_SECS} s:\n"
                             f"{process.stderr_text}") from None
