"""Regression tests: RPC calls to a worker that hostile_input found accepted.

Tasks with negative or zero ids and attempts were taken (and run), and
cancel() took a string id.
"""

import xmlrpc.client

import pytest


def assert_refused(call, *args, words):
    with pytest.raises(xmlrpc.client.Fault) as fault:
        call(*args)
    assert fault.value.faultCode == 1
    assert words in fault.value.faultString


def test_the_worker_refuses_ids_below_one(start_worker):
    worker = start_worker()
    compile_task = {"champion_id": 1, "attempt": 1, "user": "alice", "slots": 1}
    for key in ("champion_id", "attempt"):
        assert_refused(worker.rpc.compile_champion, {**compile_task, key: -1},
                       words=f"{key}: must be at least 1")
    match_task = {"match_id": -4, "attempt": 1, "slots": 3, "map": None, "options": "",
                  "players": [{"matchplayer_id": 1, "champion_id": 1, "user": "alice"}]}
    assert_refused(worker.rpc.run_match, match_task, words="match_id: must be at least 1")
    assert_refused(worker.rpc.cancel, "match", "1", 1, words="task_id: expected an integer")
    assert_refused(worker.rpc.cancel, "match", 1, 0, words="attempt: must be at least 1")
    assert worker.rpc.status()["running"] == []
