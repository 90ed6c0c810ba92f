"""A 30-champion round robin of real champions on the local cluster, run the way a newcomer runs it.

LocalCluster starts gunicorn, the master and two worker nodes as real
processes on SQLite; 30 players upload the bundled tictactoe samples c-good
and c-random (quick to run: a match costs the game's three Python programs
only), compiled and played for real by the reference game in the sandbox:
870 matches, every one of which must end `done` and count once.

STECHEC_TEST_CLUSTER_CHAMPIONS=N plays N champions instead, to iterate
faster. The test prints how long compiling and playing took.
"""

import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict

import pytest

from stechec.local.cluster import LocalCluster
from tests.conftest import wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NB_CHAMPIONS = int(os.environ.get("STECHEC_TEST_CLUSTER_CHAMPIONS", "30"))
NB_MATCHES = NB_CHAMPIONS * (NB_CHAMPIONS - 1)
SAMPLES = ["c-good", "c-random"]
# Two workers of 4 matches each (a match takes 3 slots): a match spends
# most of its time starting programs, so more than one per core keeps
# both cores busy.
WORKERS, SLOTS = 2, 12


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


@pytest.mark.slow
@pytest.mark.timeout(900 + 2 * NB_MATCHES)
def test_a_round_robin_of_sample_champions_runs_to_completion(var_dir):
    # Sandbox user ids of their own, so that parallel runs never share them.
    cluster = LocalCluster(var_dir, workers=WORKERS, slots=SLOTS,
                           first_uid=700_000 + random.randrange(1000) * 2000)
    cluster.write_configs()
    cluster.manage("migrate", "--no-input", "-v", "0")
    subprocess.run([sys.executable, "-m", "tests.tournaments.cluster_seed", str(NB_CHAMPIONS),
                    *SAMPLES], env=cluster.environment(), cwd=ROOT, check=True, timeout=300)
    database = sqlite3.connect(cluster.sql["database"], timeout=30)

    def one(query):
        return database.execute(query).fetchone()[0]

    def rows(query):
        return database.execute(query).fetchall()

    try:
        started = time.monotonic()
        cluster.start()
        wait_for(lambda: one("SELECT COUNT(*) FROM stechec_champion WHERE status IN "
                             "('new', 'pending')") == 0, "every champion to compile", 300)
        compiled = time.monotonic()
        assert rows("SELECT status, COUNT(*) FROM stechec_champion GROUP BY status") == \
            [("ready", NB_CHAMPIONS)]
        cluster.manage("create_tournament", "Thirty", "--maps", "--launch")
        assert one("SELECT COUNT(*) FROM stechec_match") == NB_MATCHES
        wait_for(lambda: one("SELECT status FROM stechec_tournament") == "done",
                 "the tournament to finish", 600 + 2 * NB_MATCHES)
        finished = time.monotonic()
    finally:
        cluster.stop()
    print(f"\n{NB_CHAMPIONS} champions: started and compiled in {compiled - started:.0f} s, "
          f"{NB_MATCHES} matches played in {finished - compiled:.0f} s")

    failed = rows("SELECT id, failure_reason FROM stechec_match WHERE status != 'done'")
    assert failed == []
    # Every ordered pair of champions met exactly once, in that seat order.
    seats = defaultdict(list)
    for match_id, champion, score in rows(
            "SELECT match_id, champion_id, score FROM stechec_matchplayer ORDER BY id"):
        seats[match_id].append((champion, score))
    champions = [c for (c,) in rows("SELECT id FROM stechec_champion")]
    pairs = Counter((a, b) for (a, _), (b, _) in seats.values())
    assert pairs == Counter({(a, b): 1 for a in champions for b in champions if a != b})

    # The master applied each result once, and the points count each match once.
    master_log = open(cluster.path("logs", "master-node.log")).read()
    applied = Counter(re.findall(r"\] match (\d+) attempt \d+: done from ", master_log))
    assert len(applied) == NB_MATCHES and set(applied.values()) == {1}
    points, score = Counter(), Counter()
    for (a, score_a), (b, score_b) in seats.values():
        points[a] += 2 if score_a > score_b else 1 if score_a == score_b else 0
        points[b] += 2 if score_b > score_a else 1 if score_a == score_b else 0
        score[a] += score_a
        score[b] += score_b
    standings = {champion: (points, rank) for champion, points, rank in rows(
        "SELECT champion_id, score, rank FROM stechec_tournamentplayer")}
    for champion in champions:
        better = sum(1 for other in champions
                     if (points[other], score[other]) > (points[champion], score[champion]))
        assert standings[champion] == (points[champion], 1 + better), champion
    # Every match rated once, each of its two champions once.
    assert one("SELECT COUNT(*) FROM stechec_match WHERE rated_seq IS NOT NULL") == NB_MATCHES
    assert one("SELECT SUM(rated_games) FROM stechec_champion") == 2 * NB_MATCHES
