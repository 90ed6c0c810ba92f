"""Shared test helpers.

Database tests are marked `db` automatically, so that ./tools/run-tests can
run them again on PostgreSQL with `-m db`. A test that needs a tool the
machine may lack calls `require_tool`: it skips on a developer's machine and
fails under CI (STECHEC_REQUIRE_TOOLS=1), where everything is installed.
"""

import os
import shutil
import socket
import time

import pytest

DB_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server",
               "django_db_reset_sequences", "django_db_serialized_rollback"}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("django_db") or DB_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.db)


def require_tool(name, why, *, search_path=None):
    """The path of executable `name`, or skip (fail under CI) saying why it is needed.

    `search_path` looks in those directories instead of $PATH.
    """
    path = shutil.which(name, path=search_path)
    if path is None:
        message = f"{name} is not installed ({why})"
        if os.environ.get("STECHEC_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def require_root(why):
    if os.geteuid() != 0:
        message = f"needs root ({why})"
        if os.environ.get("STECHEC_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)


def wait_for(condition, what, timeout=90):
    """Poll `condition` until it returns something true, and return that.

    Generous timeouts: other test runs may share the machine's two cores.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class SyslogReceiver:
    """A syslog socket of the test's own (a daemon's STECHEC_SYSLOG_SOCKET): the records it
    received, as `<priority>program: [LEVEL] message`."""

    def __init__(self, path):
        self.path = str(path)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(self.path)
        self._socket.setblocking(False)
        self._records = []

    def records(self):
        while True:
            try:
                self._records.append(self._socket.recv(65536).decode().rstrip("\0"))
            except BlockingIOError:
                return list(self._records)

    def wait_for(self, text, what=None):
        """The first record containing `text`, once there is one."""
        return wait_for(lambda: next((r for r in self.records() if text in r), None),
                        what or f"a syslog record with {text!r}")

    def close(self):
        self._socket.close()


@pytest.fixture
def syslog(tmp_path):
    receiver = SyslogReceiver(tmp_path / "syslog.sock")
    yield receiver
    receiver.close()
