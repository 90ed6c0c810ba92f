"""Hostile champions in a real match: each is stopped and reported, nothing is left behind.

One match seats a well-behaved champion and thirteen hostile ones, all C
programs compiled by the worker; the stand-in client dies the way its
champion died, as a stechec2 client (with the champion loaded in its own
process) would.
"""

import os
import socket

import pytest

from devtools import hostile_champions
from stechec.common import paths, verdicts
from tests.conftest import host_tree_limits, require_root, require_tool
from tests.worker_node.conftest import C_CHAMPION, C_PLAY_LOOP

# Who the "network" champion tries on 127.0.0.1: a listener of the test's.
LISTENER = "the worker's loopback"


def test_hostile_champions_in_a_match(start_worker, master, tmp_path):
    require_tool("bwrap", "the network and the filesystem are confined by bubblewrap")
    require_root("each program runs as a user id of its own, which bounds the fork bomb")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    # 5 s a turn: the well-behaved champions answer in time, and the infinite loop uses up
    # its 3 s of CPU before the match ends (the sleepers take 3 turns x 5 s each), however
    # loaded the machine. 3 s, not 1: while other groups are out of memory at the same
    # time (the memory tree), the kernel's reclaim makes the 10 GB allocation use 0.6 to
    # over 1 s of CPU before it is killed for memory, which must come first.
    worker = start_worker(worker={"available_slots": 16}, match={"time_ms": 5000},
                          limits={"client": {"cpu_secs": 3, "memory_bytes": 512 * 2**20,
                                             "processes": 16, "disk_bytes": 64 * 2**20}})

    # Outside the sandbox: a directory of the test's, and the shared directory.
    outside = [tmp_path / "escaped", worker.contest / "escaped"]
    sources = {"good": C_CHAMPION}
    sources.update(hostile_champions.sources(
        C_PLAY_LOOP, outside=[str(path) for path in outside],
        port=listener.getsockname()[1], port_owner=LISTENER))
    champions, compile_logs = {}, {}
    for number, (name, source) in enumerate(sources.items(), start=1):
        result = worker.compile("mallory", number, {"prologin.c": source})
        assert result["status"] == "ready", (name, result)
        champions[name], compile_logs[name] = number, result["log"]
    task = {"match_id": 666, "attempt": 1, "slots": 1 + len(champions), "map": "m",
            "options": "",
            "players": [{"matchplayer_id": 100 + n, "champion_id": n, "user": "mallory"}
                        for n in champions.values()]}
    assert worker.rpc.run_match(task) is True
    result = master.result_for("match_done", 666)

    assert result["status"] == "done", result
    players = {name: next(p for p in result["players"] if p["champion_id"] == number)
               for name, number in champions.items()}
    logs = {name: (worker.match_dir(666) / paths.player_log_name(100 + number, number))
            .read_bytes() for name, number in champions.items()}
    reasons = {name: log.decode(errors="replace") for name, log in logs.items()}

    assert (players["good"]["score"], players["good"]["exit_status"]) == (21, 0)
    assert players["fork bomb"]["nb_timeout"] == 3
    assert "fork refused" in reasons["fork bomb"]
    tree = host_tree_limits()
    if tree.processes:
        assert "stopped: more processes than its limit (16)" in reasons["fork bomb"]
        assert players["fork bomb"]["verdict"]["limit"] == "processes"
    else:
        assert "still running after the game server had finished" in reasons["fork bomb"]
    assert "out of memory (limit 512 MiB)" in reasons["10 GB allocation"]
    assert verdicts.describe(players["10 GB allocation"]["verdict"]) == \
        "stopped: used more than 512 MiB of memory"
    if tree.memory:
        # Resident memory is limited, not the address space: the allocation succeeds and
        # the kernel stops the champion as it fills it.
        assert "malloc: Cannot allocate memory" not in reasons["10 GB allocation"]
        assert players["10 GB allocation"]["verdict"]["memory_from"] == "cgroup"
    else:
        assert "malloc: Cannot allocate memory" in reasons["10 GB allocation"]
        assert players["10 GB allocation"]["exit_status"] == 1
    assert "CPU time limit (3 s) exceeded" in reasons["infinite loop"]
    assert players["sleep forever"]["nb_timeout"] == 3
    assert "still running after the game server had finished" in reasons["sleep forever"]
    assert players["sleep forever"]["exit_status"] is None
    assert "WROTE" not in reasons["write outside"]
    for path in [*outside, *hostile_champions.SYSTEM_TARGETS]:
        assert f"{path}: " in reasons["write outside"]   # it tried, and was refused
    assert players["write outside"]["score"] == 21
    assert not [path for path in outside if path.exists()]
    assert "CONNECTED" not in reasons["network"]
    assert f"connect to {LISTENER}: Connection refused" in reasons["network"]
    assert "connect to the internet: Network is unreachable" in reasons["network"]
    assert players["network"]["score"] == 21
    with pytest.raises(TimeoutError):
        listener.accept()
    assert "killed for printing more than 16 MiB" in reasons["print 1 GB"]
    assert "[log truncated at 262144 bytes]" in reasons["print 1 GB"]
    assert len(reasons["print 1 GB"]) < 300 * 1024
    assert len(players["print 1 GB"]["log"]) <= 64 * 1024
    # Bytes that are not text (NUL, ESC, invalid UTF-8) are carried as they were printed.
    assert hostile_champions.COMPILE_WARNING.encode() in compile_logs["control bytes"]
    assert hostile_champions.PRINTED_BYTES in logs["control bytes"]
    assert players["control bytes"]["log"] == logs["control bytes"]
    assert (players["control bytes"]["score"], players["control bytes"]["exit_status"]) == \
        (21, 0)

    said = {name: verdicts.describe(player["verdict"]) for name, player in players.items()}
    processes = "stopped: tried to run more than 16 processes and threads at once"
    # 8 children of 200 MB under 512 MiB: the tree is stopped where cgroups limit it.
    if tree.memory:
        assert said["memory tree"] == "stopped: used more than 512 MiB of memory"
        assert "8 children hold" not in reasons["memory tree"]
    else:
        assert said["memory tree"] == "stopped: still running after the game had ended"
    assert "thread refused after" in reasons["thread bomb"]
    assert said["thread bomb"] == (processes if tree.processes
                                   else "stopped: still running after the game had ended")
    assert "left a child behind" in reasons["outliving child"]
    assert (players["outliving child"]["score"], said["outliving child"]) == \
        (21, "finished normally")
    assert said["fill directory"] == "stopped: wrote more than 64 MiB in its directories"
    assert "/dev/shm: Permission denied" in reasons["write to /dev/shm"]
    assert players["write to /dev/shm"]["score"] == 21
    assert not os.path.exists(hostile_champions.SHM_FILE)

    # Nothing is left behind and the worker goes on serving.
    worker.wait_idle()
    assert worker.compile("alice", 50, {"prologin.c": C_CHAMPION})["status"] == "ready"
    listener.close()
