"""The checks tools/chaos runs at the end, on made-up evidence: each finds what it must."""

import os
import subprocess
import types

from devtools import invariants
from stechec.common import paths

SERVER_LOG = ("INFO: game over\n\n--- server output ---\n---\nplayer: 11\nscore: 2\n"
              "nb_timeout: 0\n---\nplayer: 12\nscore: 0\nnb_timeout: 3\n")


def _match(pk, status, reason=""):
    return types.SimpleNamespace(id=pk, status=status, attempts=1, failure_reason=reason)


def _player(pk, champion, score):
    return types.SimpleNamespace(id=pk, champion_id=champion, score=score,
                                 log_name=lambda: paths.player_log_name(pk, champion))


def _write_match(root, pk, text=SERVER_LOG, players=(11, 12), champions=(1, 2)):
    directory = paths.match_dir(str(root), "tictactoe", pk)
    os.makedirs(directory)
    with open(f"{directory}/server.log", "w") as f:
        f.write(text)
    for player, champion in zip(players, champions, strict=True):
        open(f"{directory}/{paths.player_log_name(player, champion)}", "w").close()
    return directory


def test_scores_and_points_agree_with_server_log(tmp_path):
    _write_match(tmp_path, 7)
    matches = [_match(7, "done")]
    players = {7: [_player(11, 1, 2), _player(12, 2, 0)]}
    assert invariants.lost(matches, [], players, str(tmp_path), "tictactoe") == []
    assert invariants.tournament_points(matches, players, str(tmp_path), "tictactoe") == []

    # The database holds another attempt's scores than the files.
    players = {7: [_player(11, 1, 0), _player(12, 2, 2)]}
    assert len(invariants.lost(matches, [], players, str(tmp_path), "tictactoe")) == 2
    points = invariants.tournament_points(matches, players, str(tmp_path), "tictactoe")
    assert points[0] == "champion 1: 0 tournament points from the database, 2 from the logs"


def test_done_without_outputs_and_failed_without_reason_are_lost(tmp_path):
    matches = [_match(8, "done"), _match(9, "failed"), _match(10, "failed", "server crashed")]
    players = {8: [_player(11, 1, 2), _player(12, 2, 0)], 9: [], 10: []}
    problems = invariants.lost(matches, [], players, str(tmp_path), "tictactoe")
    assert [p.split(":")[0] for p in problems] == ["match 8", "match 9"]


def test_a_result_applied_twice_is_doubled(tmp_path):
    log = tmp_path / "master-node.log"
    log.write_text(
        "2026-01-01 master-node: [INFO] match 5 attempt 1: done from 127.0.0.1:1\n"
        "2026-01-01 master-node: [INFO] match 6 attempt 1: failed from 127.0.0.1:1\n"
        "2026-01-01 master-node: [INFO] match 6 attempt 2: done from 127.0.0.1:1\n"
        "2026-01-01 master-node: [INFO] match 5 attempt 2: done from 127.0.0.1:2\n"
        "2026-01-01 master-node: [INFO] champion 3 attempt 1: ready from 127.0.0.1:2\n"
        "2026-01-01 master-node: [WARNING] match 6 attempt 1: result from 127.0.0.1:1 "
        "dropped (stale attempt, unknown or finished task)\n")
    applied = invariants.applied_results(str(log))
    matches = [_match(5, "done"), _match(6, "done")]
    champions = [types.SimpleNamespace(id=3)]
    assert invariants.doubled(matches, champions, applied) == [
        "match 5: done applied for attempts [1, 2], now done"]


def test_stuck_tasks_and_partial_files(tmp_path):
    champions = [types.SimpleNamespace(id=1, status="pending", attempts=2),
                 types.SimpleNamespace(id=2, status="ready", attempts=1)]
    assert invariants.unfinished([_match(1, "new"), _match(2, "done")], champions) == [
        "match 1: still new after 1 attempts", "champion 1: still pending after 2 attempts"]
    directory = _write_match(tmp_path, 3)
    assert invariants.partial_files(str(tmp_path)) == []
    open(f"{directory}/replay.tmp-1234", "w").close()
    assert invariants.partial_files(str(tmp_path)) == [f"partial file {directory}/replay.tmp-1234"]
    os.unlink(f"{directory}/replay.tmp-1234")
    os.mkdir(f"{directory}/attempt-2")
    os.mkdir(f"{directory}/.attempt-3.staging")
    assert invariants.partial_files(str(tmp_path)) == [
        f"partial directory {directory}/.attempt-3.staging"]


def test_orphan_processes_by_user_id_and_directory(tmp_path):
    sleeper = subprocess.Popen(["sleep", "60"], cwd=tmp_path)
    try:
        found = invariants.orphan_processes([], [str(tmp_path)])
        assert any(f"orphan process {sleeper.pid} " in line for line in found)
        uid = os.getuid()
        assert any(f"orphan process {sleeper.pid} " in line
                   for line in invariants.orphan_processes([(uid, uid + 1)], []))
        assert not any(f"orphan process {sleeper.pid} " in line
                       for line in invariants.orphan_processes([(uid + 1, uid + 2)], []))
    finally:
        sleeper.kill()
        sleeper.wait()
