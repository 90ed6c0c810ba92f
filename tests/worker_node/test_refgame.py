"""Matches of the bundled reference game through the worker, with the worker's defaults.

Runs once the reference runtime (stechec/refgame), its player environment
(share/player_env) and its sample champions (share/champions) are in the
tree; the other worker tests use stand-ins.
"""

import gzip
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from stechec.common import paths, verdicts
from tests.conftest import require_tool, require_tree_limits
from tests.worker_node.conftest import ROOT

SHARE = ROOT / "share"
REFGAME = ROOT / "stechec" / "refgame"
pytestmark = pytest.mark.skipif(
    not (REFGAME.is_dir() and (SHARE / "player_env").is_dir() and (SHARE / "champions").is_dir()),
    reason="the reference game runtime and its player environment are not in this tree")


def _sources(game, name):
    directory = SHARE / "champions" / game / name
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def _refgame_worker(start_worker, game):
    # The worker's defaults: stechec2-refgame-server/-client, <share>/player_env.
    worker = start_worker(contest={"game": game}, paths={
        "stechec_server": None, "stechec_client": None, "player_env": None})
    assert "stechec_server" not in worker.config["paths"]
    return worker


def test_tictactoe(start_worker, master):
    worker = _refgame_worker(start_worker, "tictactoe")
    for number, name in enumerate(["c-good", "python-random", "cpp-good"], start=1):
        result = worker.compile("alice", number, _sources("tictactoe", name))
        assert result["status"] == "ready", result
    task = {"match_id": 1, "attempt": 1, "slots": 3, "map": None, "options": "",
            "players": [{"matchplayer_id": 11, "champion_id": 1, "user": "alice"},
                        {"matchplayer_id": 12, "champion_id": 3, "user": "alice"}]}
    assert worker.rpc.run_match(task) is True
    result = master.result_for("match_done", 1)
    assert result["status"] == "done", result
    assert sorted(p["score"] for p in result["players"]) in ([0, 2], [1, 1])
    with gzip.open(worker.match_dir(1) / paths.DUMP) as f:
        assert json.load(f)
    assert (worker.match_dir(1) / paths.REPLAY).exists()
    worker.wait_idle()


def test_goldrush_for_three(start_worker, master):
    worker = _refgame_worker(start_worker, "goldrush")
    for number, name in enumerate(["c-good", "python-good", "cpp-random"], start=1):
        assert worker.compile("bob", number, _sources("goldrush", name))["status"] == "ready"
    game_map = (SHARE / "maps" / "goldrush" / "crossroads.map").read_text()
    task = {"match_id": 2, "attempt": 1, "slots": 4, "map": game_map, "options": "",
            "players": [{"matchplayer_id": 20 + n, "champion_id": n, "user": "bob"}
                        for n in (1, 2, 3)]}
    assert worker.rpc.run_match(task) is True
    result = master.result_for("match_done", 2)
    assert result["status"] == "done", result
    assert all(isinstance(p["score"], int) for p in result["players"])
    # The game refuses a client without the server's map: every client got --map.
    assert [p["nb_timeout"] for p in result["players"]] == [0, 0, 0], result
    assert os.path.getsize(worker.match_dir(2) / paths.SERVER_LOG) > 0
    worker.wait_idle()
    assert Path(worker.match_dir(2) / paths.player_log_name(21, 1)).exists()


# Sample champion -> the tool its Makefile needs, looked up where sandboxed
# programs look (a toolchain under /root is not theirs).
SAMPLES = {"c-random": "cc", "cpp-random": "c++", "python-random": "python3",
           "javascript-random": "node", "rust-random": "rustc", "java-random": "javac"}


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_sample_champions_compile(start_worker, sample):
    require_tool(SAMPLES[sample], "the sample's toolchain, where sandboxed programs look",
                 search_path="/usr/local/bin:/usr/bin:/bin")
    worker = _refgame_worker(start_worker, "tictactoe")
    result = worker.compile("alice", 1, _sources("tictactoe", sample))
    assert result["status"] == "ready", result
    assert result["language"] == _sources("tictactoe", sample)["_lang"].decode().strip()


@pytest.fixture
def game_under_tmp():
    """The bundled game's programs, compile script and player environment named through a
    directory of symbolic links under /tmp, as an operator may lay out an installation."""
    farm = Path(tempfile.mkdtemp(prefix="stechec-farm-"))
    farm.chmod(0o755)
    (farm / "bin").mkdir()
    for program in ("stechec2-refgame-server", "stechec2-refgame-client"):
        (farm / "bin" / program).symlink_to(
            shutil.which(program, path=os.path.dirname(sys.executable)))
    (farm / "player_env").symlink_to(SHARE / "player_env")
    (farm / "compile-champion.sh").symlink_to(SHARE / "compile-champion.sh")
    yield farm
    shutil.rmtree(farm)


def test_game_installed_under_tmp_runs_in_bubblewrap(start_worker, master, game_under_tmp):
    require_tool("bwrap", "the sandbox that hides /tmp")
    worker = start_worker(contest={"game": "tictactoe"}, paths={
        "stechec_server": str(game_under_tmp / "bin" / "stechec2-refgame-server"),
        "stechec_client": str(game_under_tmp / "bin" / "stechec2-refgame-client"),
        "player_env": str(game_under_tmp / "player_env"),
        "compile_script": str(game_under_tmp / "compile-champion.sh")})
    assert "bubblewrap works" in worker.log()
    for number, name in enumerate(["c-good", "python-good"], start=1):
        result = worker.compile("alice", number, _sources("tictactoe", name))
        assert result["status"] == "ready", result
    task = {"match_id": 3, "attempt": 1, "slots": 3, "map": None, "options": "",
            "players": [{"matchplayer_id": 31, "champion_id": 1, "user": "alice"},
                        {"matchplayer_id": 32, "champion_id": 2, "user": "alice"}]}
    assert worker.rpc.run_match(task) is True
    result = master.result_for("match_done", 3)
    assert result["status"] == "done", result
    assert [p["score"] for p in result["players"]] == [1, 1]
    worker.wait_idle()


def test_programs_exits_are_seen_with_the_heartbeat_an_hour_away(start_worker, master):
    # Nothing but the programs' ends wakes the worker here (no heartbeat, no RPC call
    # while the tasks run): a worker that saw a program's exit only when its loop woke for
    # something else would wait for its wall-clock limit and fail this test.
    worker = start_worker(master={"heartbeat_secs": 3600}, contest={"game": "tictactoe"},
                          paths={"stechec_server": None, "stechec_client": None,
                                 "player_env": None})
    result = worker.compile("alice", 1, _sources("tictactoe", "c-good"))
    assert result["status"] == "ready", result
    task = {"match_id": 1, "attempt": 1, "slots": 3, "map": None, "options": "",
            "players": [{"matchplayer_id": 11, "champion_id": 1, "user": "alice"},
                        {"matchplayer_id": 12, "champion_id": 1, "user": "alice"}]}
    assert worker.rpc.run_match(task) is True
    assert master.result_for("match_done", 1)["status"] == "done"


def test_the_java_sample_plays_under_256_mib_of_resident_memory(start_worker, master):
    """A JVM reserves far more address space than it uses: under a memory cgroup the
    limit is on what it holds, and 256 MiB is plenty."""
    require_tool("javac", "the Java sample", search_path="/usr/local/bin:/usr/bin:/bin")
    tree_limits = require_tree_limits("a JVM is held to its resident memory by a cgroup")
    worker = start_worker(contest={"game": "tictactoe"}, paths={
        "stechec_server": None, "stechec_client": None, "player_env": None},
        limits={"client": {"memory_bytes": 256 * 2**20}})
    # The worker said at start which limits hold for whole trees here.
    assert tree_limits.describe() in worker.log()
    for number, name in enumerate(["java-random", "c-good"], start=1):
        assert worker.compile("alice", number, _sources("tictactoe", name))["status"] == "ready"
    task = {"match_id": 3, "attempt": 1, "slots": 3, "map": None, "options": "",
            "players": [{"matchplayer_id": 30 + n, "champion_id": n, "user": "alice"}
                        for n in (1, 2)]}
    assert worker.rpc.run_match(task) is True
    result = master.result_for("match_done", 3)
    assert result["status"] == "done", result
    java = result["players"][0]
    log = (worker.match_dir(3) / paths.player_log_name(31, 1)).read_text(errors="replace")
    assert (java["nb_timeout"], java["verdict"]["ended"]) == (0, "exit"), (java, log)
    assert java["verdict"]["memory_from"] == "cgroup"
    assert 0 < java["verdict"]["peak_memory_kib"] <= 256 * 1024
    worker.wait_idle()


@pytest.mark.parametrize("ending, words", [
    (b"os.kill(os.getpid(), signal.SIGSEGV)", "crashed: segmentation fault (SIGSEGV) at turn 5"),
    (b"sys.exit(3)", "exited with status 3 at turn 5"),
    # Leaving early is no failure: no turn to say.
    (b"sys.exit(0)", "finished normally"),
], ids=["crash", "error", "leave"])
def test_a_crashed_champion_is_reported_as_crashed_at_its_turn(start_worker, master, ending,
                                                                words):
    """Its client (the bundled game's) ends as the champion did, as a stechec2 client
    would: the verdict names the signal, not the client's clean exit, and the turn the
    game server saw it go out at."""
    worker = _refgame_worker(start_worker, "tictactoe")
    # Player 0 plays turns 1, 3, 5...: it passes twice (an illegal answer), then ends on
    # its third request.
    crasher = {"_lang": b"python\n", "champion.py": b"import os, signal, sys\n"
               b"for _ in range(2):\n    sys.stdin.readline()\n    print('X', flush=True)\n"
               b"sys.stdin.readline()\n" + ending + b"\n"}
    for number, sources in enumerate([crasher, _sources("tictactoe", "c-good")], start=1):
        assert worker.compile("alice", number, sources)["status"] == "ready"
    task = {"match_id": 4, "attempt": 1, "slots": 3, "map": None, "options": "",
            "players": [{"matchplayer_id": 40 + n, "champion_id": n, "user": "alice"}
                        for n in (1, 2)]}
    assert worker.rpc.run_match(task) is True
    result = master.result_for("match_done", 4)
    assert result["status"] == "done", result
    crashed, good = result["players"]
    assert verdicts.describe(crashed["verdict"]) == words
    assert verdicts.describe(good["verdict"]) == "finished normally"
    worker.wait_idle()
