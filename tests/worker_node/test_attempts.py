"""Attempts and batches through real worker processes, with the stand-in master: a stale
attempt never replaces the applied one's files; `run_tasks`; results to a master without
`task_results`."""

import os
import signal
import xmlrpc.client

import pytest

from stechec.common import paths
from tests.worker_node.conftest import C_CHAMPION, wait_for

SLEEPY_C_CHAMPION = "#include <unistd.h>\nint main(void) { for (;;) sleep(1000); }\n"
# Answers each turn after half a second: in time with a long turn, late with a short one.
SLOW_PYTHON_CHAMPION = """
import sys
import time
for line in sys.stdin:
    time.sleep(0.5)
    print(5, flush=True)
"""


def _match(match_id, attempt, champion_id, user):
    return {"match_id": match_id, "attempt": attempt, "slots": 3, "map": "m", "options": "",
            "players": [{"matchplayer_id": 1, "champion_id": champion_id, "user": user},
                        {"matchplayer_id": 2, "champion_id": champion_id, "user": user}]}


def _files(directory):
    """{name: (bytes, inode)} of every file in `directory`."""
    return {path.name: (path.read_bytes(), path.stat().st_ino)
            for path in directory.iterdir() if path.is_file()}


def test_a_stale_attempt_finishing_late_leaves_the_applied_files(start_worker, master):
    """Attempt 1 runs on a worker the master lost (frozen here), attempt 2 on another one is
    applied; when attempt 1 finishes, its result is dropped and its files go, and the
    applied attempt's files stay as they were."""
    stale = start_worker("-stale", match={"time_ms": 5000})
    current = start_worker("-current", match={"time_ms": 150})
    assert stale.compile("alice", 1, {"champion.py": SLOW_PYTHON_CHAMPION})["status"] == "ready"
    master.answer("match_done", 31, 1, False)

    assert stale.rpc.run_match(_match(31, 1, 1, "alice")) is True
    wait_for(lambda: len(stale.processes_in_work_dir()) >= 3, "attempt 1's server and clients")
    stale.proc.send_signal(signal.SIGSTOP)
    try:
        assert current.rpc.run_match(_match(31, 2, 1, "alice")) is True
        wait_for(lambda: "match 31 attempt 2: result delivered" in current.log(),
                 "attempt 2's result to be applied")
        current.wait_idle()
        applied = master.result_for("match_done", 31)
        published = current.match_dir(31)
        before = _files(published)
    finally:
        stale.proc.send_signal(signal.SIGCONT)

    wait_for(lambda: "match 31 attempt 1: the master dropped the result" in stale.log(),
             "attempt 1's result to be dropped")
    stale.wait_idle()
    assert current.match_dir(31) == published
    assert _files(published) == before
    # Attempt 2 timed out on every turn of the slow champion, attempt 1 never did.
    assert [p["nb_timeout"] for p in applied["players"]] == [3, 3]
    assert "nb_timeout: 3" in before[paths.SERVER_LOG][0].decode()
    # Nothing of attempt 1 is left beside it.
    assert [p.name for p in current.match_task_dir(31).iterdir()] == [published.name]


def test_run_tasks_answers_each_task_as_alone(start_worker, master):
    worker = start_worker()
    for champion_id in (1, 2, 3):
        worker.upload("alice", champion_id, {"prologin.c": C_CHAMPION})

    def compile_task(champion_id, slots):
        return {"kind": "compile", "champion_id": champion_id, "attempt": 1, "user": "alice",
                "slots": slots}

    # 4 slots: the first two fit, the third is refused and nothing starts for it.
    assert worker.rpc.run_tasks([compile_task(1, 2), compile_task(2, 2), compile_task(3, 2)]) \
        == [True, True, False]
    for champion_id in (1, 2):
        assert master.result_for("compilation_result", champion_id)["status"] == "ready"
    worker.wait_idle()
    assert not master.calls_of("compilation_result")[2:]
    assert "champion 3 attempt 1: refused: 2 slots asked, 0 free" in worker.log()
    assert not worker.champion_dir("alice", 3).joinpath("attempt-1").exists()

    match = dict(_match(32, 1, 1, "alice"), kind="match")
    assert worker.rpc.run_tasks([match, compile_task(3, 1)]) == [True, True]
    assert master.result_for("match_done", 32)["status"] == "done"
    assert master.result_for("compilation_result", 3)["status"] == "ready"
    worker.wait_idle()
    assert worker.rpc.run_tasks([]) == []


@pytest.mark.parametrize("tasks, words", [
    ([{"kind": "compile", "champion_id": 5, "attempt": 1, "user": "alice", "slots": 1},
      {"kind": "match", "match_id": 6, "attempt": 1, "slots": 3, "options": "", "players": []}],
     "tasks[1].players: a match needs players"),
    ([{"kind": "compile", "champion_id": 5, "attempt": 1, "user": "alice", "slots": 1},
      {"kind": "compile", "champion_id": 5, "attempt": 2, "user": "alice", "slots": 1}],
     "tasks[1]: the same task twice in one call"),
    ([{"kind": "compile", "champion_id": 5, "attempt": 1, "user": "..", "slots": 1}],
     "tasks[0].user: not a valid user name"),
    ([{"kind": "build", "champion_id": 5, "attempt": 1}], "tasks[0].kind: expected one of compile, match"),
    ([7], "tasks[0]: expected a struct"),
])
def test_run_tasks_refuses_a_malformed_call_whole(start_worker, tasks, words):
    worker = start_worker()
    worker.upload("alice", 5, {"prologin.c": C_CHAMPION})
    with pytest.raises(xmlrpc.client.Fault) as refused:
        worker.rpc.run_tasks(tasks)
    assert words in refused.value.faultString
    assert worker.rpc.status()["running"] == []
    assert "accepted" not in worker.log()


def test_run_tasks_refuses_an_attempt_already_running(start_worker, master):
    worker = start_worker(match={"time_ms": 60000})
    assert worker.compile("carol", 1, {"prologin.c": SLEEPY_C_CHAMPION})["status"] == "ready"
    assert worker.rpc.run_match(_match(33, 2, 1, "carol")) is True
    with pytest.raises(xmlrpc.client.Fault, match=r"tasks\[1\]: match 33 attempt 2 is already"):
        worker.rpc.run_tasks([
            {"kind": "compile", "champion_id": 1, "attempt": 2, "user": "carol", "slots": 1},
            dict(_match(33, 1, 1, "carol"), kind="match")])
    assert worker.rpc.status()["running"] == [{"kind": "match", "id": 33, "attempt": 2}]
    assert worker.rpc.cancel("match", 33, 2) is True
    worker.wait_idle()


def test_results_go_one_a_call_to_a_master_without_task_results(start_worker, master):
    worker = start_worker()
    for champion_id in (1, 2):
        worker.upload("alice", champion_id, {"prologin.c": C_CHAMPION})
    port = master.port
    master.stop()
    wait_for(lambda: "cannot be reached" in worker.log(), "the worker to notice the outage")
    assert worker.rpc.run_tasks([
        {"kind": "compile", "champion_id": c, "attempt": 1, "user": "alice", "slots": 1}
        for c in (1, 2)]) == [True, True]
    wait_for(lambda: worker.log().count(": ready") == 2, "both compilations to finish")
    master.start(port)

    for champion_id in (1, 2):
        assert master.result_for("compilation_result", champion_id)["status"] == "ready"
    wait_for(lambda: worker.log().count("result delivered") == 2, "both results delivered")
    assert "the master has no task_results: sending results one a call" in worker.log()
    assert len(master.calls_of("compilation_result")) == 2
    worker.wait_idle()
    for champion_id in (1, 2):
        assert (worker.champion_outputs("alice", champion_id) / paths.CHAMPION_COMPILED).exists()


def test_a_dropped_or_cancelled_attempt_leaves_nothing(start_worker, master):
    worker = start_worker(match={"time_ms": 60000})
    master.answer("compilation_result", 1, 1, False)
    result = worker.compile("alice", 1, {"prologin.c": C_CHAMPION})
    assert result["status"] == "ready"
    wait_for(lambda: "champion 1 attempt 1: the master dropped the result" in worker.log(),
             "the result to be dropped")
    worker.wait_idle()
    assert [p.name for p in worker.champion_dir("alice", 1).iterdir()] == ["champion.tgz"]

    assert worker.compile("carol", 2, {"prologin.c": SLEEPY_C_CHAMPION})["status"] == "ready"
    assert worker.rpc.run_match(_match(34, 1, 2, "carol")) is True
    wait_for(lambda: len(worker.processes_in_work_dir()) >= 3, "the match's programs")
    assert worker.rpc.cancel("match", 34, 1) is True
    worker.wait_idle()
    assert not os.path.exists(worker.match_task_dir(34)) or \
        not list(worker.match_task_dir(34).iterdir())


def test_an_applied_attempt_replaces_the_older_ones_only_with_outputs(start_worker, master):
    worker = start_worker()
    directory = worker.champion_dir("alice", 7)
    assert worker.compile("alice", 7, {"prologin.c": C_CHAMPION})["status"] == "ready"
    worker.wait_idle()
    sources = (directory / paths.CHAMPION_SOURCES).read_bytes()

    # A recompilation failing for the platform's reasons publishes nothing: the build
    # matches use stays.
    (directory / paths.CHAMPION_SOURCES).unlink()
    assert worker.compile("alice", 7, attempt=2)["status"] == "failed"
    worker.wait_idle()
    assert sorted(p.name for p in directory.iterdir()) == ["attempt-1"]

    (directory / paths.CHAMPION_SOURCES).write_bytes(sources)
    assert worker.compile("alice", 7, attempt=3)["status"] == "ready"
    worker.wait_idle()
    assert sorted(p.name for p in directory.iterdir()) == ["attempt-3", "champion.tgz"]
