"""Placement: the least-loaded worker with room, random among equals; or, to fill
workers, the one with the fewest free slots."""

import collections

from stechec.common.tasks import Kind
from stechec.master_node.queue import QueuedTask
from stechec.master_node.workers import WorkerRegistry

DEADLINES = {Kind.COMPILE: 60.0, Kind.MATCH: 60.0}


def registry(*slots):
    workers = WorkerRegistry("secret", 1.0)
    for port, max_slots in enumerate(slots, start=9000):
        workers.heartbeat("127.0.0.1", port, max_slots)
    return workers


def compile_task(task_id):
    return QueuedTask(Kind.COMPILE, task_id, 0, 1, {})


def test_each_task_goes_to_the_least_loaded_worker():
    workers = registry(4, 2)
    placed = workers.place([compile_task(i) for i in range(5)], DEADLINES)
    # Loads (busy / max slots) after each task, whichever way ties fall:
    # 1/4 and 1/2, then 2/4, then 3/4 or 2/2, then both: 3/4 and 2/2.
    by_port = collections.Counter(a.worker.port for a in placed)
    assert by_port == {9000: 3, 9001: 2}
    assert [a.attempt for a in placed] == [1] * 5
    assert workers.free_slots() == 1


def test_a_match_goes_only_where_all_its_slots_are_free():
    workers = registry(2, 3)
    first, second = workers.place([QueuedTask(Kind.MATCH, 7, 2, 3, {}), QueuedTask(Kind.MATCH, 8, 0, 3, {})],
                                  DEADLINES)
    assert (first.worker.port, first.attempt, first.slots) == (9001, 3, 3)
    assert second is None
    assert workers.free_slots() == 2


def test_no_room_means_no_placement_and_released_slots_come_back():
    workers = registry(1)
    first, second = workers.place([compile_task(1), compile_task(2)], DEADLINES)
    assert second is None and workers.free_slots() == 0
    first.marked = True
    assert workers.finish(Kind.COMPILE, 1, 1) is first
    assert workers.finish(Kind.COMPILE, 1, 1) is None
    assert workers.free_slots() == 1


def test_equally_loaded_workers_share_the_work_at_random():
    chosen = collections.Counter()
    for _ in range(200):
        workers = registry(2, 2, 2)
        [assignment] = workers.place([compile_task(1)], DEADLINES)
        chosen[assignment.worker.port] += 1
    assert set(chosen) == {9000, 9001, 9002}
    assert min(chosen.values()) > 30


def test_to_fill_workers_each_takes_tasks_until_it_is_full():
    workers = registry(4, 4, 4)
    [first] = workers.place([compile_task(0)], DEADLINES)
    placed = workers.place([compile_task(i) for i in range(1, 6)], DEADLINES, fill=True)
    # The worker with the fewest free slots first: the one busy already, then another.
    assert [a.worker for a in placed[:3]] == [first.worker] * 3
    assert placed[3].worker is placed[4].worker is not first.worker
    assert workers.free_slots() == 6


def test_to_fill_workers_a_match_skips_those_without_its_slots():
    workers = registry(4, 4)
    [busy] = workers.place([compile_task(0), compile_task(1)], DEADLINES, fill=True)[:1]
    match, task = workers.place([QueuedTask(Kind.MATCH, 7, 0, 3, {}), compile_task(2)],
                                DEADLINES, fill=True)
    # The busy worker has 2 free slots, the match needs 3; then the match's worker has 1.
    assert match.worker is not busy.worker
    assert task.worker is match.worker
