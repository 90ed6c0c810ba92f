"""A round robin of real champions on the local cluster, run the way a newcomer runs it.

LocalCluster starts gunicorn, the master and two worker nodes as real
processes on SQLite; champions are the bundled tictactoe samples, compiled
and played for real by the reference game.

The issue asks for 30 champions: 870 matches, about half an hour on the
2-core CI machine (a match takes 1-2 s of CPU). The suite plays 8 (56
matches, the same code paths); STECHEC_TEST_CLUSTER_CHAMPIONS=30 runs the
full size.
"""

import os
import sqlite3
import subprocess
import sys
import tempfile
import time

import pytest

from stechec.local.cluster import LocalCluster

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NB_CHAMPIONS = int(os.environ.get("STECHEC_TEST_CLUSTER_CHAMPIONS", "8"))
NB_MATCHES = NB_CHAMPIONS * (NB_CHAMPIONS - 1)


def wait_for(condition, what, timeout):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(1)
    return value


@pytest.fixture
def var_dir():
    """In the source tree, as tools/run-local's ./var, and a short path (unix sockets).

    Not under /tmp or /var/tmp: there the sandbox's private /tmp and
    read-only system directories hide the work directory from compilations.
    Open to all (mkdtemp makes it 0700): the sandboxed champions run as other
    users, and must reach their own directories inside.
    """
    with tempfile.TemporaryDirectory(prefix=".test-cluster-", dir=ROOT) as directory:
        os.chmod(directory, 0o755)
        yield directory


@pytest.mark.timeout(600 + 30 * NB_MATCHES)
def test_a_round_robin_of_sample_champions_runs_to_completion(var_dir):
    cluster = LocalCluster(var_dir, workers=2, slots=6)
    cluster.write_configs()
    cluster.manage("migrate", "--no-input", "-v", "0")
    subprocess.run([sys.executable, "-m", "tests.tournaments.cluster_seed", str(NB_CHAMPIONS)],
                   env=cluster.environment(), cwd=ROOT, check=True, timeout=300)
    database = sqlite3.connect(cluster.sql["database"], timeout=30)

    def one(query):
        return database.execute(query).fetchone()[0]

    try:
        cluster.start()
        wait_for(lambda: one("SELECT COUNT(*) FROM stechec_champion WHERE status IN "
                             "('new', 'pending')") == 0, "every champion to compile", 600)
        # On a loaded machine a compilation may be killed (reported as a
        # compile error): the tournament takes every champion that is ready.
        entrants = one("SELECT COUNT(*) FROM stechec_champion WHERE status = 'ready'")
        assert entrants >= NB_CHAMPIONS * 2 // 3, f"only {entrants} champions compiled"
        cluster.manage("create_tournament", "Thirty", "--maps", "--launch")
        matches = entrants * (entrants - 1)
        assert one("SELECT COUNT(*) FROM stechec_match") == matches
        wait_for(lambda: one("SELECT status FROM stechec_tournament") == "done",
                 "the tournament to finish", 30 * NB_MATCHES)
    finally:
        cluster.stop()
    # On a loaded machine a match may end `failed` (a champion killed, a move
    # deadline missed): it counts for nothing, and says why.
    done = one("SELECT COUNT(*) FROM stechec_match WHERE status = 'done'")
    assert done + one("SELECT COUNT(*) FROM stechec_match WHERE status = 'failed'") == matches
    assert done > 0
    assert one("SELECT COUNT(*) FROM stechec_match WHERE status = 'failed' "
               "AND failure_reason = ''") == 0
    # Each done match gave 2 points (a win, or a draw 1 each), counted once.
    assert one("SELECT SUM(score) FROM stechec_tournamentplayer") == 2 * done
    assert one("SELECT COUNT(*) FROM stechec_tournamentplayer WHERE rank IS NULL") == 0
    assert one("SELECT COUNT(*) FROM stechec_match WHERE rated_seq IS NOT NULL") == done
