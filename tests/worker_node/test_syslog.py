"""A real daemon's records reach syslog as `worker-node: [LEVEL] message`."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import yaml

from stechec.local.cluster import free_port


def test_worker_node_logs_to_the_syslog_socket(tmp_path):
    log_socket = str(tmp_path / "log")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(log_socket)
    sock.settimeout(1)
    (tmp_path / "tictactoe").mkdir()
    config = tmp_path / "worker-node.yml"
    config.write_text(yaml.safe_dump({
        "master": {"host": "127.0.0.1", "port": free_port(), "shared_secret": "s",
                   "heartbeat_secs": 0.2},
        "worker": {"host": "127.0.0.1", "listen": "127.0.0.1", "port": 0},
        "contest": {"directory": str(tmp_path), "game": "tictactoe"},
        "paths": {"work_directory": tempfile.mkdtemp(prefix="stechec-syslog-test-")},
    }))
    env = dict(os.environ, STECHEC_SYSLOG_SOCKET=log_socket)
    daemon = subprocess.Popen([sys.executable, "-m", "stechec.worker_node.main", "-c", str(config)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    records = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("[WARNING]" in r for r in records):
            try:
                records.append(sock.recv(65536).decode())
            except TimeoutError:
                assert daemon.poll() is None, daemon.stderr.read()
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=60)
        sock.close()
    # <30>: facility daemon, level info; <28>: warning.
    assert records[0].startswith("<30>worker-node: [INFO] ")
    assert any(r.startswith("<28>worker-node: [WARNING] ") and "master" in r for r in records)
    # Without -l nothing goes to stderr.
    assert stderr == ""
