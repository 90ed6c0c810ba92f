"""`worker-node --check CHAMPION.tgz` on the bundled game: the verdicts of one compilation and
one match of the champion against itself, with the worker's configuration; exit 0 only
when it played a whole match."""

import os
import subprocess
import sys

from tests.worker_node.conftest import ROOT, make_tgz

SAMPLES = ROOT / "share" / "champions" / "tictactoe"
# The worker's defaults: the bundled runtime and its player environment.
BUNDLED = {"contest": {"game": "tictactoe"},
           "paths": {"stechec_server": None, "stechec_client": None, "player_env": None}}
CRASHING = """#include <signal.h>
int main(void) { raise(SIGSEGV); return 0; }
"""


def sample(name):
    directory = SAMPLES / name
    return make_tgz({p.name: p.read_bytes() for p in directory.iterdir()})


def test_a_sample_compiles_and_plays_against_itself(check_worker):
    run, worker = check_worker(sample("c-good"), **BUNDLED)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert "compilation (c): ready" in lines
    assert "match: done" in lines
    assert [line.split(",")[0] for line in lines if line.startswith("  player")] == [
        "  player 1: score 1", "  player 2: score 1"]
    assert lines[-1] == ("worker-node --check: OK: the champion compiled and played a whole "
                         "match against itself")
    # Neither the shared directory nor the work directory of the configuration was used.
    assert os.listdir(worker.contest) == ["tictactoe"]
    assert not os.listdir(worker.contest / "tictactoe")
    assert not worker.work.exists() or not os.listdir(worker.work)


def test_a_champion_that_does_not_compile_fails_the_check(check_worker):
    run, _ = check_worker(make_tgz({"_lang": "c\n", "champion.c": "this is not C\n"}),
                          **BUNDLED)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith(
        "worker-node --check: FAILED: the champion did not compile: the build exited with "
        "status")
    assert "this is not C" in run.stdout   # the compiler's complaint, from its log


def test_a_crashing_champion_fails_the_check_naming_the_players(check_worker):
    run, _ = check_worker(make_tgz({"_lang": "c\n", "champion.c": CRASHING}), "--players",
                          "3", **BUNDLED)
    assert run.returncode == 1, run.stdout + run.stderr
    last = run.stdout.splitlines()[-1]
    for player in (1, 2, 3):
        assert f"player {player} did not play to the end" in last, last
    kept = last.rsplit("(logs kept in ", 1)[1].rstrip(")")
    assert os.path.isdir(kept)


def test_a_missing_archive_is_named(tmp_path):
    run = subprocess.run([sys.executable, "-m", "stechec.worker_node.main", "--check",
                          str(tmp_path / "none.tgz")], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 2
    assert run.stderr.splitlines()[-1] == (
        f"worker-node: error: argument --check: {tmp_path / 'none.tgz'} is not a file")
