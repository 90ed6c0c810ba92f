"""Restarts: of the worker in the middle of a match, of the master while a result waits."""

import os
import signal
import subprocess
import sys
import threading
import xmlrpc.client

import pytest

from tests.conftest import require_root
from tests.worker_node.conftest import C_CHAMPION, wait_for

SLEEPY_C_CHAMPION = "#include <unistd.h>\nint main(void) { for (;;) sleep(1000); }\n"


def _match(match_id, champion_id, user):
    return {"match_id": match_id, "attempt": 1, "slots": 3, "map": "m", "options": "",
            "players": [{"matchplayer_id": 1, "champion_id": champion_id, "user": user},
                        {"matchplayer_id": 2, "champion_id": champion_id, "user": user}]}


def test_worker_restarted_in_the_middle_of_a_match(start_worker, master):
    worker = start_worker(match={"time_ms": 60000})
    assert worker.compile("carol", 1, {"prologin.c": SLEEPY_C_CHAMPION})["status"] == "ready"
    assert worker.rpc.run_match(_match(21, 1, "carol")) is True
    running = {"kind": "match", "id": 21, "attempt": 1}
    wait_for(lambda: any(running in args[2] and args[0][2] == 1
                         for args in master.calls_of("heartbeat")),
             "a heartbeat showing the match")
    wait_for(lambda: len(worker.processes_in_work_dir()) >= 2, "the match's clients")

    # Killed without a chance to clean up: its programs die with it.
    worker.stop(signal.SIGKILL)
    wait_for(lambda: not worker.sandbox_processes() and not worker.processes_in_work_dir(),
             "the dead worker's programs to be gone", timeout=30)

    # What the dead worker left in its work directory goes; nothing else does.
    left = worker.work / "match-21-leftover"
    left.mkdir()
    (worker.work / "notes.txt").write_text("the operator's")
    beats_before = len(master.calls_of("heartbeat"))
    worker.config["worker"]["port"] = worker.port
    worker.config_path.write_text(__import__("yaml").safe_dump(worker.config))
    first = worker.start()
    assert first[0] == ["127.0.0.1", worker.config["worker"]["port"], 4, 4]
    assert first[1] is True
    assert first[2] == []
    assert master.calls_of("heartbeat")[beats_before:][0][1] is True
    assert worker.rpc.status()["free_slots"] == 4
    assert not left.exists()
    assert [p.name for p in worker.work.iterdir()] == ["notes.txt"]
    wait_for(lambda: master.calls_of("heartbeat")[-1][1] is False, "a beat after the first")
    assert not [args for args in master.calls_of("match_done") if args[1] == 21]
    # The new worker serves as usual.
    assert worker.compile("alice", 2, {"prologin.c": C_CHAMPION})["status"] == "ready"


def test_results_survive_a_master_restart(start_worker, master):
    worker = start_worker(match={"time_ms": 1000})
    assert worker.compile("alice", 1, {"prologin.c": C_CHAMPION})["status"] == "ready"
    assert worker.compile("carol", 2, {"prologin.c": SLEEPY_C_CHAMPION})["status"] == "ready"
    port = master.port
    match = _match(22, 2, "carol")   # takes about 6 s: 2 players x 3 turns x 1 s
    assert worker.rpc.run_match(match) is True
    master.stop()
    wait_for(lambda: "cannot be reached" in worker.log(), "the worker to notice the outage")
    wait_for(lambda: "match 22 attempt 1: failed" in worker.log() or
             "match 22 attempt 1: done" in worker.log(), "the match to finish")
    master.start(port)

    result = master.result_for("match_done", 22)
    assert result["status"] == "done"
    assert [p["nb_timeout"] for p in result["players"]] == [3, 3]
    wait_for(lambda: "is back after" in worker.log(), "the worker to log the master's return")
    log = worker.log()
    # One warning per outage, not one per heartbeat or retry.
    assert log.count("cannot be reached") == 1
    worker.wait_idle()


def test_sigterm_kills_the_running_tasks_and_exits(start_worker, master):
    worker = start_worker(match={"time_ms": 60000})
    assert worker.compile("carol", 1, {"prologin.c": SLEEPY_C_CHAMPION})["status"] == "ready"
    assert worker.rpc.run_match(_match(23, 1, "carol")) is True
    wait_for(lambda: len(worker.processes_in_work_dir()) >= 2, "the match's clients")
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(60) == 0
    assert "stopping: killing the running tasks" in worker.log()
    wait_for(lambda: not worker.sandbox_processes() and not worker.processes_in_work_dir(),
             "the programs to be gone", timeout=30)
    assert not [args for args in master.calls_of("match_done") if args[1] == 23]


def test_a_new_attempt_supersedes_the_one_still_running(start_worker, master):
    """After a master restart the same match comes back as attempt 2 while attempt 1 runs:
    the worker cancels attempt 1 (it used to answer with a fault, and the master then
    dropped the worker and charged an attempt to each of its tasks)."""
    worker = start_worker(match={"time_ms": 60000})
    assert worker.compile("carol", 1, {"prologin.c": SLEEPY_C_CHAMPION})["status"] == "ready"
    assert worker.rpc.run_match(_match(24, 1, "carol")) is True
    wait_for(lambda: len(worker.processes_in_work_dir()) >= 2, "the match's clients")

    # Attempt 1 still holds 3 of the 4 slots: attempt 2 is refused for room, not faulted.
    assert worker.rpc.run_match(dict(_match(24, 1, "carol"), attempt=2)) is False
    wait_for(lambda: not worker.processes_in_work_dir(), "attempt 1's programs to be killed")
    wait_for(lambda: worker.rpc.run_match(dict(_match(24, 1, "carol"), attempt=2)),
             "attempt 2 to be accepted")
    assert worker.rpc.status()["running"] == [{"kind": "match", "id": 24, "attempt": 2}]
    # An attempt older than the running one is still a fault.
    with pytest.raises(xmlrpc.client.Fault, match="attempt 2 is already running"):
        worker.rpc.run_match(_match(24, 1, "carol"))
    assert worker.rpc.cancel("match", 24, 2) is True
    worker.wait_idle()
    assert not [args for args in master.calls_of("match_done") if args[1] == 24]


def test_result_given_up_after_the_retry_time(start_worker, master):
    worker = start_worker(master={"callback_retry_secs": 2})
    worker.upload("alice", 1, {"prologin.c": C_CHAMPION})
    master.stop()
    task = {"champion_id": 1, "attempt": 1, "user": "alice", "slots": 1}
    assert worker.rpc.compile_champion(task) is True
    wait_for(lambda: "champion 1 attempt 1: result lost" in worker.log(),
             "the worker to give the result up")
    # The compilation itself is in the shared directory; the task is forgotten.
    assert (worker.champion_outputs("alice", 1) / "champion-compiled.tar.gz").exists()
    assert worker.rpc.status()["running"] == []
    assert worker.rpc.status()["free_slots"] == 4


def test_first_until_a_beat_gets_through(start_worker, master, tmp_path):
    port = master.port
    master.stop()
    log = tmp_path / "worker.log"   # the log of start_worker's worker

    def restart_once_a_beat_failed():
        # However long the worker takes to start, its first beat finds the master down.
        wait_for(lambda: log.exists() and "cannot be reached" in log.read_text(),
                 "the worker's first beat to fail")
        master.start(port)

    restart = threading.Thread(target=restart_once_a_beat_failed)
    restart.start()
    try:
        worker = start_worker()   # returns on the first beat the master receives
    finally:
        restart.join()
    beats = master.calls_of("heartbeat")
    assert beats[0][1] is True
    assert "cannot be reached" in worker.log()
    wait_for(lambda: master.calls_of("heartbeat")[-1][1] is False, "a second beat")


def test_a_second_worker_on_the_same_user_ids_is_refused(start_worker):
    require_root("sandbox user ids are only used as root")
    first = start_worker()
    second = subprocess.run(
        [sys.executable, "-m", "stechec.worker_node.main", "-c", str(first.config_path)],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, STECHEC_SYSLOG_SOCKET="/nonexistent"))
    assert second.returncode == 2
    assert second.stderr.splitlines()[-1] == (
        f"worker-node: configuration error: {first.config_path}: sandbox.first_uid: user id "
        f"{first.first_uid} is already used by another worker-node on this machine: give each "
        "worker its own sandbox.first_uid range (available_slots ids each)")
