"""Shared test helpers.

Database tests are marked `db` automatically, so that ./tools/run-tests can
run them again on PostgreSQL with `-m db`. A test that needs a tool the
machine may lack calls `require_tool`: it skips on a developer's machine and
fails under CI (STECHEC_REQUIRE_TOOLS=1), where everything is installed.
`run_tool` runs a script of tools/ as a contributor's shell would.
"""

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DB_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server",
               "django_db_reset_sequences", "django_db_serialized_rollback"}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("django_db") or DB_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.db)


def unavailable(message, *, required_by="STECHEC_REQUIRE_TOOLS"):
    """Skip the test for want of what `message` names, or fail it where the environment
    variable `required_by` is 1: CI (.ci/run) sets them, so that nothing it must test is
    skipped there."""
    if os.environ.get(required_by) == "1":
        pytest.fail(message)
    pytest.skip(message)


def require_tool(name, why, *, search_path=None):
    """The path of executable `name`, or skip (fail under CI) saying why it is needed.

    `search_path` looks in those directories instead of $PATH.
    """
    path = shutil.which(name, path=search_path)
    if path is None:
        unavailable(f"{name} is not installed ({why})")
    return path


def require_root(why):
    if os.geteuid() != 0:
        unavailable(f"needs root ({why})")


_tree_limits = []


def host_tree_limits():
    """This host's cgroups.TreeLimits, detected once per test run (the worker-node a test
    starts detects the same): the summary of the run says which the tests exercised."""
    from stechec.worker_node import cgroups
    if not _tree_limits:
        _tree_limits.append(cgroups.detect())
    return _tree_limits[0]


def require_tree_limits(why):
    """This host's cgroups.TreeLimits (detected once per test run), or skip (fail under CI,
    which runs as root on hosts with cgroups) saying why they are needed. The run's summary
    says which mechanism the tests exercised."""
    limits = host_tree_limits()
    if limits.version is None:
        message = f"no cgroup limits whole trees here ({why}): {limits.why_not}"
        if os.environ.get("STECHEC_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return limits


def pytest_terminal_summary(terminalreporter):
    if _tree_limits:
        terminalreporter.write_line(f"whole-tree limits exercised: {_tree_limits[0].mechanism} "
                                    f"({_tree_limits[0].describe()})")


def pytest_sessionfinish():
    for limits in _tree_limits:
        limits.close()


def free_sandbox_uids(size, first_uids):
    """A range of `size` sandbox user ids, its first id at or after a random one of
    `first_uids`, that no worker-node here holds and no other test picked: a
    stechec.local.uids.SandboxUids holding them picked until its release(). Test runs
    side by side (several checkouts, a local cluster) never take the same ids."""
    from stechec.local.uids import SandboxUids
    return SandboxUids(1, size, random.choice(first_uids), size)


def scrape(url):
    """{(sample name, sorted (label, value) pairs): value} of the Prometheus metrics at
    `url`."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url, timeout=30) as response:
        text = response.read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def metric_sum(samples, name, **labels):
    """The sum of the samples named `name` that have `labels` (among others)."""
    return sum(value for (sample, sample_labels), value in samples.items()
               if sample == name and set(labels.items()) <= set(sample_labels))


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
def prometheus(tmp_path):
    """start(targets, job) -> the base URL of a Debian Prometheus scraping `targets` every
    second as `job` (the job name share/prometheus/prometheus.yml gives them), with the alert
    rules of share/prometheus/ loaded."""
    require_tool("prometheus", "Debian's prometheus package scrapes the cluster")
    started = []

    def start(targets, job):
        shutil.copy(os.path.join(ROOT, "share", "prometheus", "stechec-alerts.yml"), tmp_path)
        (tmp_path / "prometheus.yml").write_text(json.dumps({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": ["stechec-alerts.yml"],
            "scrape_configs": [{"job_name": job,
                                "static_configs": [{"targets": targets}]}]}))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with open(tmp_path / "prometheus.log", "wb") as log:
            started.append(subprocess.Popen(
                ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                 f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{port}"], stdout=log,
                stderr=subprocess.STDOUT))
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.kill()
        process.wait()


def query(base, expr):
    """The instant vector `expr` evaluates to, [] while Prometheus is not up."""
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read())["data"]["result"]
    except OSError:
        return []


@pytest.fixture
def syslog(tmp_path):
    receiver = SyslogReceiver(tmp_path / "syslog.sock")
    yield receiver
    receiver.close()


def run_tool(name, *args, timeout=600):
    """Run tools/NAME from its shebang with no virtualenv activated (the tests' own is taken
    out of $PATH), as from a clean clone's shell; its CompletedProcess, output as text."""
    venv_bins = {os.path.realpath(os.path.dirname(sys.executable)),
                 os.path.realpath(os.path.join(ROOT, ".venv", "bin"))}
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join(directory for directory in os.environ["PATH"].split(os.pathsep)
                                  if os.path.realpath(directory) not in venv_bins)
    return subprocess.run([os.path.join(ROOT, "tools", name), *args], env=env,
                          capture_output=True, text=True, timeout=timeout)
