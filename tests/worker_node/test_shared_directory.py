"""A shared directory that is an empty mount point (the share not mounted): the worker takes
no task, says why in its log and in its heartbeats, and takes tasks again once it is there."""

import shutil

from django.contrib.auth.models import User

from stechec.common.rpc import RPCClient
from stechec.contest.models import Champion
from tests.master_node.conftest import SECRET
from tests.worker_node.conftest import C_CHAMPION, GAME, WorkerProcess, wait_for

NOT_MOUNTED = "has no testgame/ directory: is the share mounted?"


def compile_task(champion_id):
    return {"champion_id": champion_id, "attempt": 1, "user": "alice", "slots": 1}


def test_a_share_not_mounted_at_start_or_later_refuses_tasks_and_says_why(tmp_path, master):
    worker = WorkerProcess(tmp_path, master, {})
    # The mount point is empty: the share is not mounted yet.
    shutil.rmtree(worker.contest / GAME)
    try:
        first = worker.start()
        assert NOT_MOUNTED in first[3]
        assert "[WARNING] taking no task: the shared directory" in worker.log()
        assert worker.rpc.compile_champion(compile_task(1)) is False
        assert f"champion 1 attempt 1: refused: the shared directory {worker.contest} " \
            "has no testgame/" in worker.log()

        # Mounted: the next heartbeat says nothing is wrong, and tasks are taken.
        worker.upload("alice", 2, {"main.c": C_CHAMPION})
        wait_for(lambda: master.calls_of("heartbeat")[-1][3] == "", "a heartbeat without problem")
        assert "is back: taking tasks again" in worker.log()
        assert worker.rpc.compile_champion(compile_task(2)) is True
        assert master.result_for("compilation_result", 2)["status"] == "ready"

        # Unmounted while it runs: noticed at the next heartbeat.
        shutil.rmtree(worker.contest / GAME)
        wait_for(lambda: NOT_MOUNTED in master.calls_of("heartbeat")[-1][3],
                 "a heartbeat saying the share is gone")
        assert worker.rpc.compile_champion(compile_task(3)) is False
    finally:
        worker.stop()
        worker.remove_work_directory()


def test_the_master_places_nothing_there_meanwhile_and_charges_no_try(cluster):  # noqa: F811
    # One try only: a try charged while the share is missing would fail the champion.
    master, _relay, worker = cluster(max_task_tries=1)
    shutil.rmtree(worker.contest / GAME)
    wait_for(lambda: f"worker 127.0.0.1:{worker.port} takes no task: the shared directory "
             in master.logs(), "the master to hear that the share is missing")
    [status] = RPCClient(master.url, SECRET).status()["workers"]
    assert NOT_MOUNTED in status["problem"] and status["free_slots"] == 0
    alice = User.objects.create_user("alice")
    champion = Champion.queue_for_compilation(name="patient", author=alice)

    # Mounted again, with the champion's sources in it.
    worker.upload("alice", champion.id, {"main.c": C_CHAMPION})
    wait_for(lambda: Champion.objects.get(pk=champion.pk).status == Champion.Status.READY,
             "the champion to compile once the share is there")
    champion.refresh_from_db()
    assert champion.attempts - champion.uncounted_attempts == 1
    assert f"worker 127.0.0.1:{worker.port} takes tasks again" in master.logs()
