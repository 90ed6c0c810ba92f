"""The stechec2 command-line contract, with real server and client processes:
addresses, flags, the YAML results, and champions that misbehave."""

import json
import os
import signal
import subprocess
import time

import pytest
import yaml

from stechec.refgame import transport
from stechec.refgame.champion import group_members
from tests.refgame.helpers import REPO, SHARE, command, finish, run_match, script_champion, start

MAPS = os.path.join(SHARE, "maps", "goldrush")


def run(program, *args):
    return subprocess.run(command(program, *args), capture_output=True, text=True, timeout=60,
                          cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO))


@pytest.mark.parametrize("address", ["ipc", "tcp"])
def test_match_over_each_address_kind(tmp_path, samples, address):
    match = run_match(tmp_path, "tictactoe", [samples["tictactoe", "c-good"]] * 2,
                      address=address)
    assert match.server_status == 0, match.server_log
    assert match.stdout == ("---\nplayer: p1\nscore: 1\nnb_timeout: 0\n"
                            "---\nplayer: p2\nscore: 1\nnb_timeout: 0\n")
    assert not os.path.exists(tmp_path / "match.sock")


def test_clients_wait_for_a_late_server(tmp_path, samples):
    champion = samples["tictactoe", "c-random"]
    address = f"ipc://{tmp_path}/late.sock"
    clients = [subprocess.Popen(
        command("client", "--name", f"p{i + 1}", "--rules", "tictactoe", "--champion",
                champion, "--req_addr", address, "--client_id", i),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=REPO))
        for i in (0, 1)]
    time.sleep(0.5)
    server = run("server", "--rules", "tictactoe", "--rep_addr", address, "--nb_clients", 2)
    for client in clients:
        assert client.wait(60) == 0, client.stderr.read()
    assert server.returncode == 0, server.stderr
    assert sorted(doc.split("\n")[0] for doc in server.stdout.split("---\n")[1:]) == [
        "player: p1", "player: p2"]


def test_champion_may_be_given_as_its_directory(tmp_path, samples):
    built_dir = os.path.dirname(samples["tictactoe", "python-good"])
    match = run_match(tmp_path, "tictactoe", [built_dir, samples["tictactoe", "c-good"]])
    assert match.scores() == [1, 1]
    assert match.timeouts() == [0, 0]


def test_seats_follow_client_ids_not_arrival(tmp_path, samples):
    good, random = samples["tictactoe", "c-good"], samples["tictactoe", "c-random"]
    match = run_match(tmp_path, "tictactoe", [good, random], client_ids=[1, 0])
    assert match.dump["players"] == ["p0", "p1"]
    assert [doc["player"] for doc in match.results] == ["p0", "p1"]


def test_late_answers_count_as_timeouts_and_are_skipped(tmp_path, samples):
    # Sleeps past the limit on its first turn only: that turn is lost, and the
    # late answer must not be taken as the answer to the next request. The limit is
    # long enough for every other answer to be in time on a loaded machine.
    slow_start = script_champion(tmp_path / "slow", "champion", """
        import sys, time
        first = True
        for line in sys.stdin:
            if first:
                time.sleep(6)
                first = False
            me, board = line.split()
            cell = board.index(".")
            print(cell // 3, cell % 3, flush=True)
    """)
    match = run_match(tmp_path / "match", "tictactoe",
                      [slow_start, samples["tictactoe", "c-good"]], time_ms=5000)
    assert match.server_status == 0, match.server_log
    results = match.by_name()
    assert results["p1"]["nb_timeout"] == 1, match.server_log
    assert results["p2"]["nb_timeout"] == 0
    assert results["p2"]["score"] == 2
    assert "did not answer within 5000 ms" in match.client_logs[0]
    # Every turn but the first had a legal answer from the slow champion.
    lost = [s for s in match.dump["states"][1:] if s["last_move"] is None]
    assert len(lost) == 1


def test_champion_that_sleeps_forever_loses_every_turn(tmp_path, samples):
    sleeper = script_champion(tmp_path / "sleeper", "champion", """
        import time
        time.sleep(3600)
    """)
    match = run_match(tmp_path / "match", "tictactoe",
                      [samples["tictactoe", "c-random"], sleeper], time_ms=2000)
    assert match.server_status == 0, match.server_log
    results = match.by_name()
    assert results["p1"] == {"player": "p1", "score": 2, "nb_timeout": 0}
    assert results["p2"]["score"] == 0
    assert results["p2"]["nb_timeout"] >= 2
    assert "killing it" in match.client_logs[1]


def test_champion_that_crashes_loses_its_remaining_turns(tmp_path, samples):
    crasher = script_champion(tmp_path / "crasher", "champion", """
        import sys
        line = sys.stdin.readline()
        print("0 0", flush=True)
        sys.exit(3)
    """)
    match = run_match(tmp_path / "match", "tictactoe",
                      [crasher, samples["tictactoe", "c-good"]])
    assert match.server_status == 0, match.server_log
    # Its client ends as the crashed champion did, as a stechec2 client would.
    assert match.client_statuses == [3, 0]
    results = match.by_name()
    assert results["p1"]["score"] == 0 and results["p1"]["nb_timeout"] >= 2
    assert results["p2"] == {"player": "p2", "score": 2, "nb_timeout": 0}
    assert "it exited with status 3" in match.client_logs[0]
    assert match.dump["states"][1]["last_move"] == [0, 0]


# SIGKILL (the kernel's out-of-memory kill) cannot be given a handler: the client still
# dies of it, without a traceback in the player's log.
@pytest.mark.parametrize("signum", [signal.SIGSEGV, signal.SIGKILL], ids=lambda s: s.name)
def test_a_client_whose_champion_crashed_dies_of_the_same_signal(tmp_path, samples, signum):
    crasher = script_champion(tmp_path / "crasher", "champion", f"""
        import os, signal, sys
        sys.stdin.readline()
        os.kill(os.getpid(), {int(signum)})
    """)
    match = run_match(tmp_path / "match", "tictactoe",
                      [crasher, samples["tictactoe", "c-good"]])
    assert match.server_status == 0, match.server_log
    assert match.client_statuses == [-signum, 0], match.client_logs
    assert f"it was killed by signal {signum.name}" in match.client_logs[0]
    assert "Traceback" not in match.client_logs[0]


# The server prints the turn a player went out of the game at: its client said its
# champion was gone, or the client itself was lost (here killed by its champion).
@pytest.mark.parametrize("kill", ["os.getpid(), signal.SIGSEGV", "os.getppid(), signal.SIGKILL"],
                         ids=["champion crashed", "client lost"])
def test_the_results_say_at_which_turn_a_player_went_out(tmp_path, samples, kill):
    crasher = script_champion(tmp_path / "crasher", "champion", f"""
        import os, signal, sys
        for _ in range(4):
            sys.stdin.readline()
            print("X", flush=True)
        sys.stdin.readline()
        os.kill({kill})
    """)
    match = run_match(tmp_path / "match", "goldrush", [crasher, samples["goldrush", "c-good"]],
                      map_path=os.path.join(MAPS, "duel.map"))
    assert match.server_status == 0, match.server_log
    results = match.by_name()
    assert results["p1"]["out_at_turn"] == 5, match.stdout
    assert results["p1"]["nb_timeout"] == match.dump["states"][-1]["turn"]
    assert "out_at_turn" not in results["p2"]


def test_processes_a_champion_leaves_behind_are_killed(tmp_path, samples):
    forker = script_champion(tmp_path / "forker", "champion", """
        import os, signal, sys, time
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.close(1)
            time.sleep(3600)
            sys.exit(0)
        for line in sys.stdin:
            me, board = line.split()
            cell = board.index(".")
            print(cell // 3, cell % 3, flush=True)
    """)
    match = run_match(tmp_path / "match", "tictactoe",
                      [forker, samples["tictactoe", "c-random"]])
    assert match.timeouts() == [0, 0], match.client_logs
    assert "killing 1 process(es) the champion left behind" in match.client_logs[0]
    assert group_members(match.client_pids[0]) == []


def test_champion_that_cannot_start_loses_every_turn(tmp_path, samples):
    missing = str(tmp_path / "nowhere" / "champion")
    match = run_match(tmp_path / "match", "tictactoe",
                      [samples["tictactoe", "c-random"], missing])
    results = match.by_name()
    assert results["p2"]["score"] == 0 and results["p2"]["nb_timeout"] >= 2
    assert "cannot start" in match.client_logs[1]


def test_illegal_answers_count_as_timeouts(tmp_path, samples):
    liar = script_champion(tmp_path / "liar", "champion", """
        import sys
        for line in sys.stdin:
            print("X", flush=True)
    """)
    match = run_match(tmp_path / "match", "goldrush",
                      [liar, samples["goldrush", "c-good"]],
                      map_path=os.path.join(MAPS, "duel.map"))
    results = match.by_name()
    turns = match.dump["states"][-1]["turn"]
    assert results["p1"] == {"player": "p1", "score": 0, "nb_timeout": turns}
    assert results["p2"]["nb_timeout"] == 0 and results["p2"]["score"] > 0
    assert "illegal answer 'X'" in match.server_log
    assert "out of the game" not in match.client_logs[0]


def test_client_that_never_connects_forfeits_and_the_match_ends(tmp_path, samples):
    match = run_match(tmp_path, "tictactoe", [samples["tictactoe", "c-random"]],
                      client_ids=[0, 1], extra_server_args=["--connect_timeout", 1])
    assert match.server_status == 0, match.server_log
    assert match.results == [{"player": "p0", "score": 2, "nb_timeout": 0}]
    assert match.dump["players"] == ["p0", None]
    assert "no client came within 1 s" in match.server_log


def test_server_refuses_bad_clients_and_survives_one_that_leaves(tmp_path, samples):
    address = f"ipc://{tmp_path}/s.sock"
    server = start(command("server", "--rules", "tictactoe", "--rep_addr", address,
                           "--nb_clients", 2, "--connect_timeout", 30))

    def hello(client_id, name):
        sock = transport.connect(address, retry_secs=30, timeout_secs=30)
        sock.sendall(json.dumps({"hello": client_id, "name": name}).encode() + b"\n")
        return sock

    with hello(0, "leaver"):
        pass
    with hello(0, "impostor") as impostor:
        assert impostor.recv(100) == b""
    # Ids go from 0 to the number of players - 1, as stechec2's.
    with hello(2, "outsider") as outsider:
        assert outsider.recv(100) == b""
    with transport.connect(address, retry_secs=30, timeout_secs=30) as silent:
        silent.sendall(b'{"hello": 1, "na')
        client = start(command("client", "--name", "p2", "--rules", "tictactoe",
                               "--champion", samples["tictactoe", "c-random"],
                               "--req_addr", address, "--client_id", 1))
        finish(client)
        finish(server)
    assert server.returncode == 0, server.stderr_text
    results = list(yaml.safe_load_all(server.stdout_text))
    assert [doc["player"] for doc in results] == ["leaver", "p2"]
    assert results[0]["score"] == 0 and results[0]["nb_timeout"] >= 2
    assert results[1] == {"player": "p2", "score": 2, "nb_timeout": 0}
    assert "client id 0 is already taken by 'leaver'" in server.stderr_text
    # In stechec2's log-line shape: a coloured tag, the message, where it was logged.
    assert "[\x1b[1;31mserver\x1b[0m] client refused: Invalid player identifier 2 > 1 " \
        "(server.py:" in server.stderr_text
    assert "never said hello" in server.stderr_text


def test_no_client_at_all_still_ends(tmp_path):
    dump = tmp_path / "dump.json"
    server = run("server", "--rules", "goldrush", "--rep_addr", f"ipc://{tmp_path}/s.sock",
                 "--nb_clients", 3, "--connect_timeout", 1, "--dump", dump,
                 "--replay", tmp_path / "replay.json")
    assert server.returncode == 0, server.stderr
    assert server.stdout == ""
    assert json.loads(dump.read_text())["players"] == [None, None, None]
    replay = json.loads((tmp_path / "replay.json").read_text())
    assert replay["game"] == "goldrush" and replay["turns"][0]["moves"] == {
        "0": None, "1": None, "2": None}


def test_replay_records_every_move(tmp_path, samples):
    replay = tmp_path / "replay.json"
    match = run_match(tmp_path, "tictactoe", [samples["tictactoe", "c-good"]] * 2,
                      extra_server_args=["--replay", replay])
    moves = json.loads(replay.read_text())["turns"]
    assert len(moves) == match.dump["states"][-1]["turn"] == 9
    for turn, state in zip(moves, match.dump["states"][1:], strict=True):
        assert turn["moves"] == {str(1 - state["to_play"]): "{} {}".format(*state["last_move"])}


def test_rules_may_be_a_library_path_and_a_map_is_ignored_by_tictactoe(tmp_path, samples):
    match = run_match(tmp_path, "/opt/stechec/lib/libtictactoe.so",
                      [samples["tictactoe", "c-good"]] * 2,
                      map_path=os.path.join(MAPS, "duel.map"))
    assert match.server_status == 0, match.server_log
    assert match.scores() == [1, 1]
    assert "not played on a map" in match.server_log


@pytest.mark.parametrize(("program", "args", "error"), [
    ("server", ["--rules", "tictactoe", "--rep_addr", "ipc:///tmp/x", "--nb_clients", "2",
                "--memory", "42"], "unrecognized arguments: --memory 42"),
    ("server", ["--rules", "tictactoe", "--rep_addr", "ipc:///tmp/x", "--nb_clients", "2",
                "--nb_client", "2"], "unrecognized arguments: --nb_client"),
    ("server", ["--rules", "chess", "--rep_addr", "ipc:///tmp/x", "--nb_clients", "2"],
     "unknown game 'chess'"),
    ("server", ["--rules", "tictactoe", "--rep_addr", "udp://x:1", "--nb_clients", "2"],
     "expected tcp://HOST:PORT or ipc:///PATH"),
    ("server", ["--rules", "tictactoe", "--rep_addr", "ipc:///tmp/x"],
     "the following arguments are required: --nb_clients"),
    ("server", ["--rules", "tictactoe", "--rep_addr", "ipc:///tmp/x", "--nb_clients", "2",
                "--time", "-5"], "argument --time: '-5' is not positive"),
    ("client", ["--name", "1", "--rules", "tictactoe", "--champion", "c",
                "--req_addr", "tcp://localhost:http", "--client_id", "1"],
     "expected tcp://HOST:PORT"),
])
def test_bad_command_line_is_a_usage_error(program, args, error):
    result = run(program, *args)
    assert result.returncode == 2
    assert error in result.stderr
    assert "usage:" in result.stderr


def test_wrong_number_of_players_or_bad_map_stops_the_server(tmp_path):
    result = run("server", "--rules", "tictactoe", "--rep_addr", f"ipc://{tmp_path}/s",
                 "--nb_clients", 3)
    assert result.returncode == 1
    assert "tictactoe is played by 2 to 2 players, not 3" in result.stderr
    bad_map = tmp_path / "bad.map"
    bad_map.write_text("#1.2#\n#..#\n")
    result = run("server", "--rules", "goldrush", "--rep_addr", f"ipc://{tmp_path}/s",
                 "--nb_clients", 2, "--map", bad_map)
    assert result.returncode == 1
    assert "map line 2: 4 cells where the first row has 5" in result.stderr
    bad_map.write_bytes(b"\xff\xfe#1.2#\n")
    result = run("server", "--rules", "goldrush", "--rep_addr", f"ipc://{tmp_path}/s",
                 "--nb_clients", 2, "--map", bad_map)
    assert result.returncode == 1
    assert "it is not UTF-8 text" in result.stderr
    result = run("server", "--rules", "goldrush", "--rep_addr", f"ipc://{tmp_path}/s",
                 "--nb_clients", 2, "--map", tmp_path / "missing.map")
    assert result.returncode == 1
    assert "cannot read the map" in result.stderr and "missing.map" in result.stderr


def test_results_are_printed_even_when_the_dump_cannot_be_written(tmp_path, samples):
    match = run_match(tmp_path, "tictactoe", [samples["tictactoe", "c-good"]] * 2, dump=False,
                      extra_server_args=["--dump", tmp_path / "no-such-dir" / "dump.json"])
    assert match.server_status == 1
    assert "cannot write" in match.server_log
    assert match.scores() == [1, 1]


def test_client_gives_up_when_no_server_comes(tmp_path, samples):
    result = run("client", "--name", "1", "--rules", "tictactoe",
                 "--champion", samples["tictactoe", "c-random"],
                 "--req_addr", f"ipc://{tmp_path}/nobody.sock", "--client_id", 1)
    assert result.returncode == 1
    assert "cannot connect to the server" in result.stderr
