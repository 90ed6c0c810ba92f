"""Test helpers for the upstream stechec2 engine: where it is, champions packed with
its player environment's `make tar`, workers configured on it, and matches run
directly with the engine's own programs (the yardstick the worker's must equal).

The engine is an installed prefix, by default `../shared/stechec2-engine` beside
the checkout (`STECHEC2_ENGINE` names another). Where it is absent these tests
skip, and fail under CI (`STECHEC_REQUIRE_TOOLS=1`, which .ci/run sets).
"""

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from stechec.common import share
from stechec.local.engine import SAMPLES_DIR, EngineGame, make_tar, sample_language
from stechec.worker_node.matches import parse_scores
from tests.conftest import unavailable
from tests.worker_node.conftest import ROOT, check_worker, master, start_worker  # noqa: F401

ENGINE_VARIABLE = "STECHEC2_ENGINE"
ENGINE = Path(os.environ.get(ENGINE_VARIABLE) or ROOT.parent / "shared" / "stechec2-engine")
GAME = "tictactoe"
# The champions the tests alone use (crashing, looping), then the samples run-local seeds.
CHAMPIONS = Path(__file__).resolve().parent / "champions"
SAMPLES = Path(share.share_dir()) / SAMPLES_DIR / GAME
# Where the system's programs are: a Python champion is built with the system's
# python3-config, as the worker's sandbox finds it, not with that of the
# Python running the tests (pyenv's, say).
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
MATCH_TIMEOUT_SECS = 120


class Engine:
    """The paths of an installed engine prefix and of its tictactoe game."""

    def __init__(self, prefix):
        self.prefix = Path(prefix)
        self.server = self.prefix / "bin" / "stechec2-server"
        self.client = self.prefix / "bin" / "stechec2-client"
        self.lib = self.prefix / "lib"
        self.rules = self.lib / f"lib{GAME}.so"
        self.player_env = self.prefix / "share" / "stechec2" / GAME / "player_env"

    def worker_paths(self):
        """The `paths` section of a worker configured on this engine."""
        return EngineGame(self.prefix, GAME).worker_sections()["paths"]

    def environment(self, **extra):
        return dict(PATH=SYSTEM_PATH, LD_LIBRARY_PATH=str(self.lib), HOME="/nonexistent",
                    LANG="C.UTF-8", **extra)


@pytest.fixture(scope="session")
def engine():
    if not ENGINE.joinpath("bin", "stechec2-server").is_file():
        unavailable(f"the stechec2 engine is not installed at {ENGINE} "
                    f"(set {ENGINE_VARIABLE} to its prefix)")
    return Engine(ENGINE)


def pack(engine, champion, *, stub=False):
    """`champion` (a folder of champions/ or of the samples, named <language>-<what it
    does>) packed as a player does: its files in a copy of the player environment's
    language folder, then `make tar`; the archive's bytes. `stub`: the generated
    champion, untouched (`champion` names the language)."""
    if stub:
        return make_tar(engine.player_env, champion, env=engine.environment())
    sources = CHAMPIONS / champion if (CHAMPIONS / champion).is_dir() else SAMPLES / champion
    return make_tar(engine.player_env, sample_language(champion), sources,
                    env=engine.environment())


def upload(worker, user, champion_id, archive):
    """Put `archive` where the site puts a champion's sources."""
    directory = worker.champion_dir(user, champion_id)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "champion.tgz").write_bytes(archive)


def engine_worker(start_worker, engine, *, match=None, **overrides):  # noqa: F811
    """A worker configured on `engine` for its tictactoe (which cannot dump); `match`
    changes that section."""
    return start_worker(contest={"game": GAME}, paths=engine.worker_paths(),
                        match={"dump": False, "time_ms": 1000, **(match or {})}, **overrides)


def match_task(match_id, champion_ids, user="alice"):
    """A run_match task for champions `champion_ids` of `user`, seated in that order; the
    match players' ids are match_id * 10 + seat."""
    return {"match_id": match_id, "attempt": 1, "slots": 1 + len(champion_ids), "map": None,
            "options": "",
            "players": [{"matchplayer_id": match_id * 10 + seat, "champion_id": champion,
                         "user": user} for seat, champion in enumerate(champion_ids)]}


def direct_match(engine, workdir, archives, time_ms=1000):
    """Compile `archives` and play them against each other with the engine's own
    programs, as by hand (no worker, no sandbox); [(score, nb_timeout)] by seat."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True)
    champions = []
    for seat, archive in enumerate(archives):
        build = workdir / f"champion-{seat}"
        build.mkdir()
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            tar.extractall(build, filter="data")
        lang = (build / "_lang").read_text().strip()
        made = subprocess.run(
            ["make", "-f", engine.player_env / lang / f"Makefile-{lang}", "all"], cwd=build,
            capture_output=True, text=True, timeout=300,
            env=engine.environment(STECHEC_SERVER="1"))
        assert made.returncode == 0, made.stdout + made.stderr
        champions.append(build)
    rep, pub = f"ipc://{workdir}/rep", f"ipc://{workdir}/pub"
    common = ["--rules", str(engine.rules), "--time", str(time_ms), "--verbose", "1"]
    server = subprocess.Popen(
        [engine.server, *common, "--rep_addr", rep, "--pub_addr", pub,
         "--nb_clients", str(len(champions))], cwd=workdir, env=engine.environment(),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    clients = [subprocess.Popen(
        [engine.client, *common, "--name", f"p{seat}", "--champion", build / "champion.so",
         "--req_addr", rep, "--sub_addr", pub, "--client_id", str(seat)], cwd=build,
        env=engine.environment(CHAMPION_PATH=str(build)), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL) for seat, build in enumerate(champions)]
    try:
        stdout, _ = server.communicate(timeout=MATCH_TIMEOUT_SECS)
        for client in clients:
            client.wait(MATCH_TIMEOUT_SECS)
    finally:
        for process in [server, *clients]:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert server.returncode == 0, f"the engine's server exited with {server.returncode}"
    scores = parse_scores(stdout)
    return [scores[f"p{seat}"][:2] for seat in range(len(champions))]


def scores_of(result):
    """[(score, nb_timeout)] by seat, from a match_done payload."""
    return [(player["score"], player["nb_timeout"]) for player in result["players"]]
