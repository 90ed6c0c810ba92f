"""The checks tools/chaos runs at the end, on made-up evidence: each finds what it must."""

import os
import subprocess
import types

import pytest
from django.contrib.auth.models import User

from devtools import invariants
from stechec.common import paths, tasks
from stechec.common.tasks import Kind
from stechec.contest import transitions
from stechec.contest.models import AppliedResult, Champion, Match, MatchPlayer

SERVER_LOG = ("INFO: game over\n\n--- server output ---\n---\nplayer: 11\nscore: 2\n"
              "nb_timeout: 0\n---\nplayer: 12\nscore: 0\nnb_timeout: 3\n")


def _match(pk, status, reason="", fault=None, rated_seq=None):
    if fault is None:
        fault = "platform" if status == "failed" else ""
    return types.SimpleNamespace(id=pk, status=status, attempts=1, failure_reason=reason,
                                 fault=fault, rated_seq=rated_seq)


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


def test_a_failed_match_counted_or_not_the_platform_s_is_lost(tmp_path):
    matches = [_match(9, "failed", "server crashed", fault="champion"),
               _match(10, "failed", "server crashed", rated_seq=4),
               _match(11, "failed", "server crashed"),
               _match(12, "failed", "cancelled by staff at 2026-12-05 13:00:00 UTC",
                      fault="cancelled")]
    problems = invariants.lost(matches, [], {9: [], 10: [], 11: [], 12: []}, str(tmp_path),
                               "tictactoe")
    assert problems == ["match 9: failed, yet its fault is 'champion' and its rating order None",
                        "match 10: failed, yet its fault is 'platform' and its rating order 4"]


@pytest.mark.db
@pytest.mark.django_db
def test_a_result_applied_twice_is_doubled():
    """The check reads what the master records; a database holding a doubled row fails it."""
    user = User.objects.create_user("alice")
    champions = [Champion.objects.create(author=user, name=f"c{i}", status="pending",
                                         attempts=1) for i in range(2)]
    match = Match.objects.create(status="pending", attempts=1)
    players = [MatchPlayer.objects.create(match=match, champion=c) for c in champions]
    outcomes = [{"matchplayer_id": p.id, "score": 1, "nb_timeout": 0, "exit_status": 0}
                for p in players]
    applied = transitions.apply_results(
        [(Kind.COMPILE, c.id, 1, {"status": "ready", "language": "c"}) for c in champions]
        + [(Kind.MATCH, match.id, 1, {"status": "done", "players": outcomes})],
        max_tries=3)
    assert applied == [tasks.APPLIED] * 3
    assert invariants.applied_results() == {
        ("champion", champions[0].id): [(1, "ready")], ("champion", champions[1].id): [(1, "ready")],
        ("match", match.id): [(1, "done")]}
    matches, champions = list(Match.objects.all()), list(Champion.objects.all())
    assert invariants.doubled(matches, champions, invariants.applied_results()) == []

    # A master that recorded nothing would not pass either.
    assert invariants.doubled(matches, champions, {}) == [
        f"match {match.id}: done, but no applied result recorded",
        f"champion {champions[0].id}: ready, but no applied result recorded",
        f"champion {champions[1].id}: ready, but no applied result recorded"]

    # What a second application of the same results would have recorded.
    transitions.record_applied([(AppliedResult.Kind.MATCH, match.id, 1, "done"),
                                (AppliedResult.Kind.CHAMPION, champions[0].id, 1, "error")])
    assert invariants.doubled(matches, champions, invariants.applied_results()) == [
        f"match {match.id}: done applied for attempts [1, 1], now done",
        f"champion {champions[0].id}: final results applied [(1, 'ready'), (1, 'error')]"]


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
