"""A real worker-node on the upstream stechec2 engine (tictactoe), by configuration alone.

Champions are written with the generated API and packed with the player
environment's `make tar`; the worker compiles them and plays them, and its
scores must equal those of the engine run directly with the same champions.
"""

import shutil
import tempfile
from pathlib import Path

import pytest
import yaml

from stechec.common import paths, share, verdicts
from stechec.local.engine import sample_language as language
from tests.conftest import require_tool
from tests.stechec2.conftest import (
    GAME,
    Engine,
    direct_match,
    engine_worker,
    match_task,
    pack,
    scores_of,
    upload,
)
from tests.worker_node.conftest import SECRET

PLAYING = ["c-first", "cxx-last", "python-center"]


def compile_all(worker, archives):
    """Compile every archive ({name: bytes}) as champions 1, 2... of alice; {name: id}."""
    ids = {}
    for number, (name, archive) in enumerate(archives.items(), start=1):
        upload(worker, "alice", number, archive)
        result = worker.compile("alice", number)
        assert (result["status"], result["language"]) == ("ready", language(name)), result
        ids[name] = number
    return ids


def play(worker, master, match_id, champion_ids):
    assert worker.rpc.run_match(match_task(match_id, champion_ids)) is True
    return master.result_for("match_done", match_id)


def test_champions_compile_and_play_as_the_engine_does(start_worker, master, engine,
                                                       tmp_path):
    archives = {name: pack(engine, name) for name in PLAYING}
    worker = engine_worker(start_worker, engine)
    ids = compile_all(worker, archives)
    # Built with the system's python3-config (the sandbox's PATH), whatever Python
    # the worker itself runs on.
    python_log = (worker.champion_outputs("alice", ids["python-center"])
                  / paths.COMPILATION_LOG).read_text()
    assert "-I/usr/include/python3" in python_log, python_log

    for match_id, pair in enumerate([("c-first", "cxx-last"), ("cxx-last", "python-center"),
                                     ("python-center", "c-first")], start=1):
        result = play(worker, master, match_id, [ids[name] for name in pair])
        assert (result["status"], result["server_exit"]) == ("done", 0), result
        direct = direct_match(engine, tmp_path / f"direct-{match_id}",
                              [archives[name] for name in pair])
        assert scores_of(result) == direct, pair
        assert (worker.match_dir(match_id) / paths.SERVER_LOG).exists()
    worker.wait_idle()


def test_generated_stub_champions_compile_and_never_finish(start_worker, master, engine,
                                                           tmp_path):
    stubs = {lang: pack(engine, lang, stub=True) for lang in ("c", "cxx", "python")}
    worker = engine_worker(start_worker, engine, limits={"server": {"wall_secs": 8}})
    ids = compile_all(worker, stubs)
    result = play(worker, master, 1, [ids["c"], ids["python"]])
    assert result["status"] == "failed", result
    assert result["reason"] == ("the game did not finish: the game server was killed at "
                                "the wall-clock limit (8 s)")
    assert (worker.match_dir(1) / paths.SERVER_LOG).exists()
    worker.wait_idle()


def test_crashing_and_looping_champions_lose_their_turns(start_worker, master, engine,
                                                         tmp_path):
    archives = {name: pack(engine, name) for name in ["c-first", "c-crash", "c-loop"]}
    worker = engine_worker(start_worker, engine)
    ids = compile_all(worker, archives)
    for match_id, (faulty, signal_name) in enumerate([("c-crash", "SIGSEGV"),
                                                      ("c-loop", "SIGABRT")], start=1):
        result = play(worker, master, match_id, [ids[faulty], ids["c-first"]])
        # The server skips the faulty player and finishes normally.
        assert (result["status"], result["server_exit"]) == ("done", 0), result
        (_, faulty_timeouts), (score, timeouts) = scores_of(result)
        assert faulty_timeouts > 0 and timeouts == 0, result
        assert score == 1
        log = (worker.match_dir(match_id)
               / paths.player_log_name(match_id * 10, ids[faulty])).read_text(errors="replace")
        assert f"champion process: killed by signal {signal_name}" in log
        # The engine's server does not say at which turn: the words stay without one.
        assert verdicts.describe(result["players"][0]["verdict"]) == \
            "crashed: " + verdicts.signal_words(signal_name)
    worker.wait_idle()


def test_dump_on_a_game_that_cannot_dump_names_the_key(start_worker, master, engine,
                                                       tmp_path):
    worker = engine_worker(start_worker, engine, match={"dump": True})
    ids = compile_all(worker, {"c-first": pack(engine, "c-first")})
    result = play(worker, master, 1, [ids["c-first"], ids["c-first"]])
    assert result["status"] == "failed", result
    assert result["reason"] == ("the game server aborted because this game cannot write a "
                                "dump (--dump): set match.dump to false in the worker's "
                                "configuration")
    assert "dump_state() virtual function not implemented" in \
        (worker.match_dir(1) / paths.SERVER_LOG).read_text(errors="replace")
    worker.wait_idle()


@pytest.fixture
def engine_under_tmp(engine):
    """The engine's prefix as a directory of symbolic links under /tmp (which the sandbox
    hides behind a private /tmp of its own)."""
    farm = Path(tempfile.mkdtemp(prefix="stechec-engine-"))
    farm.chmod(0o755)
    for name in ("bin", "lib", "share"):
        (farm / name).symlink_to(engine.prefix / name)
    yield Engine(farm)
    shutil.rmtree(farm)


def test_the_shipped_sample_runs_matches_once_its_prefix_is_set(start_worker, master,
                                                                 engine_under_tmp, tmp_path):
    require_tool("bwrap", "the sandbox that hides /tmp")
    sample = Path(share.share_dir()) / "worker-node-stechec2.yml"
    text = sample.read_text().replace("/opt/stechec2", str(engine_under_tmp.prefix))
    config = yaml.safe_load(text.replace("CHANGEME", SECRET))
    # Only what ties it to this test's master, ports and directories changes.
    config["master"].update(host="127.0.0.1", port=master.port)
    config["worker"].update(host="127.0.0.1", listen="127.0.0.1", port=0)
    del config["contest"]["directory"], config["sandbox"]["first_uid"]
    worker = start_worker(**config)
    assert "bubblewrap works" in worker.log()
    archives = {name: pack(engine_under_tmp, name) for name in PLAYING[:2]}
    ids = compile_all(worker, archives)
    result = play(worker, master, 1, [ids["c-first"], ids["cxx-last"]])
    assert (result["status"], result["server_exit"]) == ("done", 0), result
    assert scores_of(result) == direct_match(engine_under_tmp, tmp_path / "direct",
                                             list(archives.values()))
    worker.wait_idle()


def test_worker_node_check_passes_a_playing_champion_and_says_why_others_fail(check_worker,
                                                                              engine):
    on_engine = {"contest": {"game": GAME}, "paths": engine.worker_paths()}
    run, _ = check_worker(pack(engine, "python-center"), **on_engine, match={"dump": False})
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert "compilation (python): ready" in lines and "match: done" in lines
    assert lines[-1].startswith("worker-node --check: OK")

    run, _ = check_worker(pack(engine, "c", stub=True), **on_engine, match={"dump": False},
                          limits={"server": {"wall_secs": 8}})
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith(
        "worker-node --check: FAILED: the game did not finish: the game server was killed at "
        "the wall-clock limit (8 s); player 1 did not play to the end"), run.stdout

    run, _ = check_worker(pack(engine, "c-first"), **on_engine, match={"dump": True})
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith(
        "worker-node --check: FAILED: the game server aborted because this game cannot write "
        "a dump (--dump): set match.dump to false")
