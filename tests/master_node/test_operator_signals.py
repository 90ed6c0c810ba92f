"""What an operator reads of the master in syslog, and how a failing task is retried."""

import datetime
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

import yaml
from django.utils import timezone

from stechec.common.rpc import RPCClient
from stechec.contest.models import Champion
from stechec.contest.transitions import retry_or_fail
from stechec.worker_node.master import REFUSED_REPEAT_SECS

from .conftest import ROOT, SECRET, new_champions, wait_for

FAILED = {"status": "failed", "language": "", "log": "", "reason": "disk full"}


def worker_of(workers, slots):
    return ["127.0.0.1", int(workers.names[0].split(":")[1]), slots, slots]


def received(workers, champion):
    return [e["attempt"] for e in workers.events("received") if e["id"] == champion.id]


def test_a_task_given_up_is_a_warning_in_syslog_with_its_reason(cluster, player, syslog):
    cluster.start_master(syslog=syslog, max_task_tries=1)
    stuck = cluster.start_workers("stuck", slots=2, hold=True)
    [champion] = new_champions(player, 1)
    wait_for(lambda: received(stuck, champion), "the worker to get the champion")

    client = RPCClient(cluster.master.url, SECRET)
    assert client.compilation_result(worker_of(stuck, 2), champion.id, 1, FAILED) is True

    # <28>: facility daemon, level warning.
    assert syslog.wait_for(f"champion {champion.id}: gave up") == (
        f"<28>master-node: [WARNING] champion {champion.id}: gave up after 1 attempts; "
        "last: disk full")
    champion.refresh_from_db()
    assert champion.status == Champion.Status.FAILED


def test_sigterm_stops_the_master_with_a_warning(cluster, syslog):
    master = cluster.start_master(syslog=syslog)
    master.process.send_signal(signal.SIGTERM)
    assert master.process.wait(timeout=60) == 0
    assert syslog.wait_for("stopping on SIGTERM").startswith(
        "<28>master-node: [WARNING] stopping on SIGTERM: the 0 tasks in flight go back")


def test_a_configuration_error_goes_to_syslog_too(tmp_path, syslog):
    path = tmp_path / "master-node.yml"
    path.write_text("master: {shared_secret: s, game: g}\nworker: {timeout_sec: 3}\n"
                    "sql: {database: d}\n")
    done = subprocess.run([sys.executable, "-m", "stechec.master_node.main", "-c", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, STECHEC_SYSLOG_SOCKET=syslog.path))
    line = (f"configuration error: {path}: worker.timeout_sec: unknown key "
            "(did you mean 'worker.timeout_secs'?)")
    assert (done.returncode, done.stderr) == (2, f"master-node: {line}\n")
    # <27>: facility daemon, level error.
    assert syslog.records() == [f"<27>master-node: [ERROR] {line}"]


def test_each_retry_waits_twice_as_long_as_the_one_before(player):
    [champion] = new_champions(player, 1)
    for attempt, delay in ((1, 10), (2, 20)):
        Champion.objects.filter(pk=champion.pk).update(status="pending", attempts=attempt)
        before = timezone.now()
        assert retry_or_fail(Champion, champion.pk, attempt, "worker lost", max_tries=3,
                             first_delay=10.0)
        after = timezone.now()
        champion.refresh_from_db()
        assert champion.status == Champion.Status.NEW
        wait = datetime.timedelta(seconds=delay)
        assert before + wait <= champion.not_before <= after + wait


def test_a_task_given_back_is_not_claimed_again_before_its_delay(cluster, player):
    cluster.start_master(retry_delay_secs=300.0)
    # Room for the stale attempt 1 (until the master cancels it), the later
    # champion and the retry.
    stuck = cluster.start_workers("stuck", slots=3, hold=True)
    [failing] = new_champions(player, 1)
    wait_for(lambda: received(stuck, failing), "the worker to get the champion")
    client = RPCClient(cluster.master.url, SECRET)
    assert client.compilation_result(worker_of(stuck, 3), failing.id, 1, FAILED) is True

    # A champion uploaded after the failure goes out; the failed one waits out its 5 minutes.
    [later] = new_champions(player, 1)
    wait_for(lambda: received(stuck, later), "the worker to get the later champion")
    failing.refresh_from_db()
    assert (failing.status, failing.attempts) == (Champion.Status.NEW, 1)
    assert failing.not_before > timezone.now() + datetime.timedelta(minutes=1)
    assert received(stuck, failing) == [1]

    Champion.objects.filter(pk=failing.pk).update(not_before=timezone.now())
    wait_for(lambda: received(stuck, failing) == [1, 2], "the retry once its delay is over")


def test_a_worker_with_the_wrong_secret_says_so_at_a_bounded_rate(cluster, tmp_path):
    master = cluster.start_master()
    config = tmp_path / "worker-node.yml"
    config.write_text(yaml.safe_dump({
        "master": {"host": "127.0.0.1", "port": master.port, "shared_secret": "not-the-secret",
                   "heartbeat_secs": 0.1},
        "worker": {"host": "127.0.0.1", "listen": "127.0.0.1", "port": 0},
        "contest": {"directory": str(tmp_path), "game": "tictactoe"},
        "paths": {"work_directory": tempfile.mkdtemp(prefix="stechec-secret-test-")},
        # Sandbox user ids of its own: other workers may run on this machine.
        "sandbox": {"first_uid": 200000 + random.randrange(10000) * 64},
    }))
    log = tmp_path / "worker.log"
    started = time.monotonic()
    with open(log, "wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "stechec.worker_node.main", "-c", str(config), "-l"],
            cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
            env=dict(os.environ, STECHEC_SYSLOG_SOCKET=str(tmp_path / "no-syslog")))
    try:
        refusals = wait_for(lambda: [line for line in master.logs().splitlines()
                                     if "refused a request from" in line][9:],
                            "ten of the worker's heartbeats refused")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    elapsed = time.monotonic() - started

    # The master names the caller's address and port.
    assert re.search(r"\[WARNING\] master-node: refused a request from 127\.0\.0\.1:\d+: "
                     r"wrong signature", refusals[0])
    said = [line for line in log.read_text().splitlines()
            if "refused our signature: check shared_secret" in line]
    assert said and "[ERROR] the master at http://127.0.0.1:" in said[0]
    assert len(said) <= 1 + elapsed / REFUSED_REPEAT_SECS
    assert "cannot be reached" not in log.read_text()
