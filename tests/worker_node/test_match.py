"""Whole matches through a real worker process, over signed XML-RPC, with a stand-in master."""

import gzip
import json
import shutil
import subprocess
import tempfile
import xmlrpc.client
from pathlib import Path

import pytest

from devtools import hostile_champions
from stechec.common import paths, verdicts
from stechec.worker_node.matches import PlayerScore, parse_scores
from tests.worker_node.conftest import (
    C_CHAMPION,
    C_PLAY_LOOP,
    PYTHON_CHAMPION,
    SLEEPY_CHAMPION,
    wait_for,
)


def _match(match_id, players, *, slots=None, game_map="a map"):
    return {"match_id": match_id, "attempt": 1, "slots": slots or 1 + len(players),
            "map": game_map, "options": "",
            "players": [{"matchplayer_id": mp, "champion_id": champion, "user": user}
                        for mp, champion, user in players]}


@pytest.fixture
def worker(start_worker):
    worker = start_worker()
    assert worker.compile("alice", 1, {"prologin.c": C_CHAMPION})["status"] == "ready"
    assert worker.compile("bob", 2, {"champion.py": PYTHON_CHAMPION})["status"] == "ready"
    return worker


def test_whole_match(worker, master):
    assert worker.rpc.run_match(_match(1042, [(11, 1, "alice"), (12, 2, "bob")])) is True
    result = master.result_for("match_done", 1042)

    call = next(args for args in master.calls_of("match_done") if args[1] == 1042)
    assert call[0][:2] == ["127.0.0.1", worker.port]
    assert call[2] == 1
    assert result["status"] == "done", result
    assert (result["reason"], result["retryable"], result["server_exit"]) == ("", False, 0)
    players = {p["matchplayer_id"]: p for p in result["players"]}
    assert players[11] == {"matchplayer_id": 11, "champion_id": 1, "score": 21,
                           "nb_timeout": 0, "exit_status": 0,
                           "verdict": players[11]["verdict"], "log": players[11]["log"]}
    assert verdicts.describe(players[11]["verdict"]) == "finished normally"
    # The per-turn time limit (match.time_ms: 1500 in these tests), for the words on timeouts.
    assert players[11]["verdict"]["turn_ms"] == 1500
    assert verdicts.describe(result["server_verdict"]) == "finished normally"
    assert (players[12]["score"], players[12]["nb_timeout"]) == (15, 0)
    assert b"connected as 11" in players[11]["log"]
    assert b"client 12 connected" in result["server_log"]

    directory = worker.match_dir(1042)
    assert directory == worker.contest / "testgame" / "matches" / "001" / "042" / "attempt-1"
    assert [p.name for p in directory.parent.iterdir()] == ["attempt-1"]
    assert "player: 12" in (directory / paths.SERVER_LOG).read_text()
    assert (directory / paths.player_log_name(11, 1)).read_bytes() == players[11]["log"]
    assert (directory / paths.player_log_name(12, 2)).exists()
    with gzip.open(directory / paths.DUMP) as f:
        dump = json.load(f)
    assert dump["map"] == "a map"
    assert dump["turns"][0] == {"11": "7", "12": "5"}
    assert (directory / paths.REPLAY).read_text().startswith("stand-in replay")

    # The slots are back (test_heartbeats_list_a_running_match: the heartbeats meanwhile).
    worker.wait_idle()
    assert worker.rpc.status() == {"hostname": "127.0.0.1", "port": worker.port,
                                   "free_slots": 4, "max_slots": 4, "running": []}
    beats = master.calls_of("heartbeat")
    assert beats[0][1] is True and beats[-1][1] is False


def test_logs_of_any_bytes_reach_the_master_as_they_were_printed(worker, master):
    """A compiler's warning with colours and controls, a champion printing every byte
    value, ESC sequences and invalid UTF-8: the results carry those bytes exactly (base64,
    read by the master's own RPC server here), and the match is played out."""
    source = hostile_champions.sources(C_PLAY_LOOP, outside=[], port=9,
                                       port_owner="nobody")["control bytes"]
    compiled = worker.compile("mallory", 3, {"prologin.c": source})
    assert compiled["status"] == "ready", compiled
    assert hostile_champions.COMPILE_WARNING.encode() in compiled["log"]
    assert compiled["log"] == \
        (worker.champion_outputs("mallory", 3) / paths.COMPILATION_LOG).read_bytes()

    assert worker.rpc.run_match(_match(77, [(1, 1, "alice"), (2, 3, "mallory")])) is True
    result = master.result_for("match_done", 77)
    assert result["status"] == "done", result
    assert [(p["score"], p["exit_status"]) for p in result["players"]] == [(21, 0), (21, 0)]
    log = result["players"][1]["log"]
    assert hostile_champions.PRINTED_BYTES in log
    assert log == (worker.match_dir(77) / paths.player_log_name(2, 3)).read_bytes()
    worker.wait_idle()


def test_heartbeats_list_a_running_match(worker, master):
    # The server of the map "forever" never plays: the match runs until cancelled, however
    # long the first heartbeat takes to come (a whole match may end before one does).
    running = {"kind": "match", "id": 1043, "attempt": 1}
    assert worker.rpc.run_match(_match(1043, [(11, 1, "alice"), (12, 2, "bob")],
                                       game_map="forever")) is True
    wait_for(lambda: any(running in args[2] for args in master.calls_of("heartbeat")),
             "a heartbeat listing the running match")
    assert worker.rpc.cancel("match", 1043, 1) is True
    worker.wait_idle()
    # From the next heartbeat on, it is gone.
    seen = len(master.calls_of("heartbeat"))
    wait_for(lambda: master.calls_of("heartbeat")[seen:], "the next heartbeat")
    assert all(running not in args[2] for args in master.calls_of("heartbeat")[seen:])


def test_match_without_map_or_dump(start_worker, master):
    worker = start_worker(match={"dump": False})
    assert worker.compile("alice", 1, {"prologin.c": C_CHAMPION})["status"] == "ready"
    assert worker.rpc.run_match(_match(7, [(1, 1, "alice"), (2, 1, "alice")],
                                       game_map=None)) is True
    result = master.result_for("match_done", 7)
    assert result["status"] == "done", result
    assert [p["score"] for p in result["players"]] == [21, 21]
    assert not (worker.match_dir(7) / paths.DUMP).exists()
    assert (worker.match_dir(7) / paths.REPLAY).exists()


def test_a_rebuilt_champion_plays_its_new_build(worker, master):
    # The worker keeps the archives it decompressed: the rebuilt one must replace it.
    def scores(match_id):
        assert worker.rpc.run_match(_match(match_id, [(21, 1, "alice"), (22, 2, "bob")]))
        result = master.result_for("match_done", match_id)
        assert result["status"] == "done", result
        return [p["score"] for p in result["players"]]

    assert scores(81) == [21, 15]
    assert worker.compile("alice", 1, {"champion.py": PYTHON_CHAMPION},
                          attempt=2)["status"] == "ready"
    assert scores(82) == [15, 15]
    worker.wait_idle()


def test_crashed_server_fails_the_match_for_a_retry(worker, master):
    assert worker.rpc.run_match(_match(8, [(1, 1, "alice"), (2, 2, "bob")],
                                       game_map="crash")) is True
    result = master.result_for("match_done", 8)
    # The platform's fault, retried.
    assert (result["status"], result["retryable"], result["server_exit"]) == \
        ("failed", True, 3)
    assert result["reason"] == ("the game server exited with status 3: "
                                "stand-in server: crashing as the map asks")
    assert b"crashing as the map asks" in result["server_log"]
    assert [p["score"] for p in result["players"]] == [None, None]
    assert "game server: exited with status 3" in \
        (worker.match_dir(8) / paths.SERVER_LOG).read_text()
    worker.wait_idle()


def test_match_that_never_ends_is_killed(start_worker, master):
    # Long enough for the server to start and its clients to connect on a loaded machine
    # (the time it has to open its socket: server_start_secs, 10 s by default).
    worker = start_worker(limits={"server": {"wall_secs": 15}})
    assert worker.compile("alice", 1, {"prologin.c": C_CHAMPION})["status"] == "ready"
    players = [(1, 1, "alice"), (2, 1, "alice")]

    assert worker.rpc.run_match(_match(9, players, game_map="forever")) is True
    result = master.result_for("match_done", 9)
    assert (result["status"], result["retryable"], result["server_exit"]) == \
        ("failed", True, None), result
    assert result["reason"] == ("the game did not finish: the game server was killed at the "
                                "wall-clock limit (15 s)")
    assert (worker.match_dir(9) / paths.player_log_name(1, 1)).exists()
    worker.wait_idle()


def test_server_that_never_opens_its_socket_is_retried(start_worker, master):
    # The server of the map "hang" never opens it, however long it is given.
    worker = start_worker(match={"server_start_secs": 2})
    assert worker.compile("alice", 1, {"prologin.c": C_CHAMPION})["status"] == "ready"
    players = [(1, 1, "alice"), (2, 1, "alice")]

    # The platform's problem, retried.
    assert worker.rpc.run_match(_match(10, players, game_map="hang")) is True
    result = master.result_for("match_done", 10)
    assert (result["status"], result["retryable"]) == ("failed", True), result
    assert result["reason"] == "the game server did not open its socket within 2 s"
    assert (worker.match_dir(10) / paths.SERVER_LOG).exists()
    worker.wait_idle()


def test_refusals_and_missing_champion(worker, master):
    assert worker.rpc.run_match(_match(11, [(1, 1, "alice"), (2, 2, "bob")], slots=5)) is False
    assert worker.rpc.status()["free_slots"] == 4
    assert worker.rpc.run_match(_match(12, [(1, 1, "alice"), (2, 99, "bob")])) is True
    result = master.result_for("match_done", 12)
    assert (result["status"], result["retryable"]) == ("failed", True)
    assert result["reason"] == ("champion 99: cannot unpack its compiled archive (No such file "
                                "or directory)")
    assert "the match could not start: champion 99" in \
        (worker.match_dir(12) / paths.SERVER_LOG).read_text()
    assert all(args[1] != 11 for args in master.calls_of("match_done"))
    for task, words in [
            (_match(14, [(1, 1, "../alice"), (2, 2, "bob")]), "user: not a valid user name"),
            (_match(14, [(1, 1, "alice"), (1, 2, "bob")]), "matchplayer_id appears twice"),
            (_match(14, [(1, 1, "alice"), (2, 2, "bob")], slots=2),
             "slots: a match of 2 players needs at least 3"),
            (_match(14, []), "players: a match needs players")]:
        with pytest.raises(xmlrpc.client.Fault) as fault:
            worker.rpc.run_match(task)
        assert fault.value.faultCode == 1
        assert words in fault.value.faultString
    worker.wait_idle()


def test_cancel_kills_the_match(worker, master):
    assert worker.compile("carol", 3, {"champion.py": SLEEPY_CHAMPION})["status"] == "ready"
    assert worker.rpc.run_match(_match(13, [(1, 3, "carol"), (2, 3, "carol")])) is True
    wait_for(lambda: len(worker.sandbox_processes() or worker.processes_in_work_dir()) >= 3,
             "the match's programs to run")
    assert worker.rpc.cancel("match", 13, 2) is False   # another attempt
    assert worker.rpc.cancel("match", 13, 1) is True
    # A task stays in the worker's table until its result is delivered: once the worker
    # is idle, a result it sent would be here.
    worker.wait_idle()
    assert not [args for args in master.calls_of("match_done") if args[1] == 13]
    assert worker.rpc.cancel("match", 13, 1) is False


def test_match_whose_game_cannot_dump_names_the_key(worker, master):
    assert worker.rpc.run_match(_match(15, [(1, 1, "alice"), (2, 2, "bob")],
                                       game_map="cannot dump")) is True
    result = master.result_for("match_done", 15)
    assert result["status"] == "failed", result
    assert result["reason"] == ("the game server aborted because this game cannot write a "
                                "dump (--dump): set match.dump to false in the worker's "
                                "configuration")
    assert "dump_state() virtual function not implemented" in \
        (worker.match_dir(15) / paths.SERVER_LOG).read_text()
    worker.wait_idle()


@pytest.fixture
def unloadable_server():
    """A game server that cannot start: linked against a library that is gone (the
    loader's error, exit status 127), where the sandbox's user ids may run it."""
    directory = Path(tempfile.mkdtemp(prefix="stechec-unloadable-"))
    directory.chmod(0o755)
    (directory / "gone.c").write_text("int gone(void) { return 0; }\n")
    (directory / "server.c").write_text("int gone(void);\nint main(void) { return gone(); }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", directory / "libgone.so",
                    directory / "gone.c"], check=True)
    subprocess.run(["cc", "-o", directory / "server", directory / "server.c",
                    f"-L{directory}", "-lgone"], check=True)
    (directory / "libgone.so").unlink()
    yield directory / "server"
    shutil.rmtree(directory)


def test_game_server_that_cannot_start_says_why(start_worker, master, unloadable_server):
    worker = start_worker(paths={"stechec_server": str(unloadable_server)})
    assert worker.compile("alice", 1, {"prologin.c": C_CHAMPION})["status"] == "ready"
    assert worker.rpc.run_match(_match(16, [(1, 1, "alice"), (2, 1, "alice")])) is True
    result = master.result_for("match_done", 16)
    assert (result["status"], result["server_exit"]) == ("failed", 127), result
    assert result["reason"] == (
        "the game server exited with status 127: " f"{unloadable_server}: error while loading "
        "shared libraries: libgone.so: cannot open shared object file: No such file or "
        "directory")
    log = (worker.match_dir(16) / paths.SERVER_LOG).read_bytes()
    assert b"error while loading shared libraries: libgone.so" in log
    assert result["server_log"] == log
    worker.wait_idle()


@pytest.mark.parametrize("line, out_at_turn", [
    ("out_at_turn: 5", 5), ("", None),
    # Only words hang on it: an unreadable turn is left unsaid, the scores still count.
    ("out_at_turn: 0", None), ("out_at_turn: five", None), ("out_at_turn: true", None),
])
def test_the_turn_a_player_went_out_at_is_read_when_the_server_says_it(line, out_at_turn):
    stdout = f"---\nplayer: 11\nscore: 2\nnb_timeout: 3\n{line}\n".encode()
    assert parse_scores(stdout) == {"11": PlayerScore(2, 3, out_at_turn)}
