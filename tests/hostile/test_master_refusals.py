"""Regression tests: RPC calls to the master that hostile_input found accepted.

A heartbeat listing malformed task refs registered its worker; results with
ids or attempts below 1 were answered false (dropped) instead of refused.
"""

import xmlrpc.client

import pytest

from stechec.common.rpc import RPCClient
from tests.master_node.conftest import SECRET

WORKER = ["hostile.invalid", 9, 1, 1]
COMPILED = {"status": "ready", "language": "c", "log": "", "reason": ""}


def assert_refused(call, *args, words):
    with pytest.raises(xmlrpc.client.Fault) as fault:
        call(*args)
    assert fault.value.faultCode == 1
    assert words in fault.value.faultString


def test_a_heartbeat_with_a_malformed_task_ref_registers_nothing(cluster):
    master = RPCClient(cluster.start_master().url, SECRET)
    for ref in ({}, {"kind": "evil", "id": 1, "attempt": 1},
                {"kind": "match", "id": "1", "attempt": 1},
                {"kind": "compile", "id": 1, "attempt": 0}, "match 1"):
        assert_refused(master.heartbeat, WORKER, False, [ref], words="running[0]")
    assert master.status()["workers"] == []


def test_results_with_ids_below_one_are_refused(cluster):
    master = RPCClient(cluster.start_master().url, SECRET)
    assert_refused(master.compilation_result, WORKER, -1, 1, COMPILED,
                   words="champion_id: must be at least 1")
    assert_refused(master.compilation_result, WORKER, 1, 0, COMPILED,
                   words="attempt: must be at least 1")
    assert_refused(master.match_done, WORKER, 0, 1, {}, words="match_id: must be at least 1")
