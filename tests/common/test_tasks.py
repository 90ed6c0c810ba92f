"""stechec.common.tasks: the task contract, its one validator, and docs/rpc.md against it."""

from pathlib import Path

import pytest

from stechec.common import rpc, tasks, xmlrpc_codec
from stechec.common.rpc import RPCError
from stechec.common.tasks import Kind, Outcome, Status, check
from stechec.contest.models import Champion, Match

RPC_DOC = Path(__file__).resolve().parents[2] / "docs" / "rpc.md"


def compile_task(**changes):
    return {"champion_id": 4, "attempt": 1, "user": "alice", "slots": 1, **changes}


def match_task(**changes):
    return {"match_id": 9, "attempt": 2, "slots": 3, "map": None, "options": "",
            "players": [{"matchplayer_id": 11, "champion_id": 4, "user": "alice"},
                        {"matchplayer_id": 12, "champion_id": 5, "user": "bob"}], **changes}


def result_player(matchplayer_id, **changes):
    return {"matchplayer_id": matchplayer_id, "champion_id": 4, "score": 3, "nb_timeout": 0,
            "exit_status": 0, "log": b"\x1b[31m\x00", **changes}


def match_result(**changes):
    return {"status": "done", "reason": "", "retryable": False, "server_exit": 0,
            "server_log": b"", "players": [result_player(11), result_player(12)], **changes}


def compilation_result(**changes):
    return {"status": "ready", "language": "c", "log": b"", "reason": "", **changes}


WELL_FORMED = [
    (tasks.WorkerEntry, ["worker-1", 8070, 0, 4]),
    (tasks.TaskRef, {"kind": "match", "id": 3, "attempt": 1}),
    (tasks.CompileTask, compile_task()),
    # A task from a newer master, with a member this worker does not know.
    (tasks.CompileTask, compile_task(priority=100)),
    (tasks.MatchTask, match_task()),
    (tasks.MatchTask, {k: v for k, v in match_task().items() if k != "map"}),
    (tasks.CompilationResult, compilation_result(status="failed", log="a string log")),
    (tasks.MatchResult, match_result()),
    (tasks.MatchResult, match_result(status="failed", players=[result_player(11, score=None)])),
    (list[tasks.ResultEntry], [{"kind": "compile", "id": 4, "attempt": 1,
                                "result": compilation_result()},
                               {"kind": "match", "id": 9, "attempt": 2,
                                "result": match_result()}]),
]


@pytest.mark.parametrize("shape, value", WELL_FORMED)
def test_well_formed_payloads_pass(shape, value):
    check(shape, value, "payload")


@pytest.mark.parametrize("shape, value, where, message", [
    (tasks.CompileTask, "task", "task", "task: expected a struct"),
    (tasks.CompileTask, compile_task(champion_id=True), "task",
     "task.champion_id: expected an integer"),
    (tasks.CompileTask, compile_task(slots=0), "task", "task.slots: must be at least 1"),
    (tasks.CompileTask, compile_task(user=".."), "task", "task.user: not a valid user name"),
    (tasks.CompileTask, {"champion_id": 4}, "task", "task.attempt: missing"),
    (tasks.MatchTask, match_task(map={}), "tasks[1]", "tasks[1].map: expected a string or nil"),
    (tasks.MatchTask, match_task(players=[]), "task", "task.players: a match needs players"),
    (tasks.MatchTask, match_task(slots=2), "task",
     "task.slots: a match of 2 players needs at least 3"),
    (tasks.MatchTask, match_task(players=[match_task()["players"][0]] * 2), "task",
     "task.players: matchplayer_id appears twice"),
    (tasks.MatchTask, match_task(players=[{"matchplayer_id": 1, "champion_id": 1,
                                           "user": "a/b"}]), "task",
     "task.players[0].user: not a valid user name"),
    (tasks.WorkerEntry, ["h", 9], "worker", "worker: expected [hostname, port, free_slots, "
                                            "max_slots]"),
    (tasks.WorkerEntry, ["h", 70000, 1, 1], "worker",
     "worker.port: must be between 1 and 65535"),
    (tasks.WorkerEntry, ["", 9, 1, 1], "worker", "worker.hostname: must not be empty"),
    (list[tasks.TaskRef], [{"kind": "evil", "id": 1, "attempt": 1}], "running",
     "running[0].kind: expected one of compile, match"),
    (tasks.CompilationResult, compilation_result(status="done"), "result",
     "result.status: expected one of ready, error, failed"),
    (tasks.MatchResult, match_result(players=[result_player(11, log=7)]), "result",
     "result.players[0].log: expected base64 (the log's bytes) or a string"),
    (tasks.MatchResult, match_result(players=[result_player(11, score=None)]), "result",
     "result.players: a done match scores every player"),
    (tasks.MatchResult, match_result(players=[result_player(11, nb_timeout=-1)]), "result",
     "result.players[0].nb_timeout: must be at least 0"),
    (tasks.MatchResult, match_result(server_exit=1.5), "result",
     "result.server_exit: expected an integer or nil"),
    # The entry's result is checked as its kind's.
    (list[tasks.ResultEntry], [{"kind": "match", "id": 4, "attempt": 1,
                                "result": compilation_result()}], "results",
     "results[0].result.players: missing"),
    (tasks.Id, True, "champion_id", "champion_id: expected an integer"),
])
def test_a_malformed_payload_is_refused_naming_the_member_at_fault(shape, value, where,
                                                                   message):
    with pytest.raises(RPCError) as refused:
        check(shape, value, where)
    assert str(refused.value) == message


def test_check_task_reads_the_kind_run_tasks_adds():
    assert tasks.check_task(dict(match_task(), kind="match"), "tasks[0]") is Kind.MATCH
    assert tasks.check_task(compile_task(), "task", Kind.COMPILE) is Kind.COMPILE
    with pytest.raises(RPCError, match=r"^tasks\[0\]\.kind: missing$"):
        tasks.check_task(compile_task(), "tasks[0]")


def test_enum_members_go_on_the_wire_as_the_strings_they_are():
    with_enums = {"kind": Kind.MATCH, "status": Status.DONE, "running": [Kind.COMPILE]}
    as_strings = {"kind": "match", "status": "done", "running": ["compile"]}
    assert rpc.dumps((with_enums,), "m") == rpc.dumps((as_strings,), "m")
    (read,), _ = xmlrpc_codec.loads(rpc.dumps((with_enums,), "m"))
    assert read == as_strings and type(read["kind"]) is str


def test_answers_read_and_write_what_task_results_carries():
    assert [tasks.Answer.from_wire(v) for v in (True, False, "why")] == [
        tasks.APPLIED, tasks.DROPPED, tasks.Answer(Outcome.REFUSED, "why")]
    assert [a.wire for a in (tasks.APPLIED, tasks.REPEATED, tasks.DROPPED,
                             tasks.Answer(Outcome.REFUSED, "why"))] == [True, True, False, "why"]
    with pytest.raises(ValueError):
        tasks.Answer.from_wire(None)
    with pytest.raises(ValueError):
        tasks.UNDELIVERED.wire  # noqa: B018 (the property raises)


def test_kinds_name_their_methods_and_payloads():
    assert [(k.noun, k.id_field, k.run_method, k.result_method) for k in Kind] == [
        ("champion", "champion_id", "compile_champion", "compilation_result"),
        ("match", "match_id", "run_match", "match_done")]
    assert tasks.describe("compile", 3, 2) == "champion 3 attempt 2"
    assert [k.task_shape for k in Kind] == [tasks.CompileTask, tasks.MatchTask]
    assert [k.result_shape for k in Kind] == [tasks.CompilationResult, tasks.MatchResult]


def test_the_database_statuses_are_the_contracts():
    """The models hold the contract's values (plus the site's own `creating`)."""
    statuses = {s.value for s in Status}
    assert {s.value for s in Champion.Status} == statuses - {Status.DONE}
    assert {s.value for s in Match.Status} == \
        statuses - {Status.READY, Status.ERROR} | {Match.Status.CREATING.value}
    assert set(tasks.COMPILATION_STATUSES) <= {s.value for s in Champion.Status}
    assert set(tasks.MATCH_STATUSES) <= {s.value for s in Match.Status}


def test_docs_rpc_shows_the_shapes_as_declared():
    """docs/rpc.md holds the shapes as `python -m stechec.common.tasks` prints them."""
    assert tasks.shapes_text() in RPC_DOC.read_text(encoding="utf-8"), (
        "docs/rpc.md's shapes differ from stechec/common/tasks.py: paste the output of "
        "`python -m stechec.common.tasks` into its Shapes section")
