"""The daemons log to syslog as `<program>: [LEVEL] message`, or to stderr."""

import os
import socket
import subprocess
import sys

import pytest

PROGRAM = """
import logging, sys
from stechec.common.logs import setup_logging
setup_logging("master-node", local="-l" in sys.argv, verbose="-v" in sys.argv)
logging.getLogger("stechec.test").debug("a debug line")
logging.getLogger("stechec.test").warning("worker %s timed out", "w1:8068")
"""


@pytest.fixture
def syslog(tmp_path):
    path = str(tmp_path / "log")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    yield path, sock
    sock.close()


def run(socket_path, *args):
    env = dict(os.environ, STECHEC_SYSLOG_SOCKET=socket_path)
    return subprocess.run([sys.executable, "-c", PROGRAM, *args], env=env,
                          capture_output=True, text=True, timeout=60, check=True)


def received(sock):
    records = []
    sock.setblocking(False)
    while True:
        try:
            records.append(sock.recv(65536).decode())
        except BlockingIOError:
            return records


def test_records_reach_syslog_with_the_program_name_and_level(syslog):
    path, sock = syslog
    done = run(path)
    # <28>: facility daemon (3) * 8 + priority warning (4).
    assert received(sock) == ["<28>master-node: [WARNING] worker w1:8068 timed out\x00"]
    assert done.stderr == ""


def test_verbose_adds_debug_records(syslog):
    path, sock = syslog
    run(path, "-v")
    assert [r.split(": ", 1)[1] for r in received(sock)] == [
        "[DEBUG] a debug line\x00", "[WARNING] worker w1:8068 timed out\x00"]


def test_local_logging_adds_stderr(syslog):
    path, sock = syslog
    done = run(path, "-l")
    assert len(received(sock)) == 1
    assert "master-node: [WARNING] worker w1:8068 timed out" in done.stderr


def test_without_a_syslog_socket_it_says_so_once_and_logs_to_stderr(tmp_path):
    missing = str(tmp_path / "no-such-socket")
    done = run(missing)
    lines = done.stderr.splitlines()
    assert lines[0] == (f"master-node: cannot log to syslog at {missing} "
                        "(No such file or directory); logging to stderr instead")
    assert len(lines) == 2
    assert lines[1].endswith("master-node: [WARNING] worker w1:8068 timed out")
