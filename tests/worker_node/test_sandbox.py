"""The sandbox on its own: hostile programs under each confinement mode.

Programs are run by the system's Python (/usr/bin/python3), which any user
id may run. "bwrap" mode needs bubblewrap; "rlimits" mode is the fallback
where bubblewrap is missing or broken.
"""

import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import gevent
import pytest

from stechec.common import verdicts
from stechec.worker_node import cgroups
from stechec.worker_node import sandbox as sandboxing
from stechec.worker_node.limits import Limits
from stechec.worker_node.settings import SYSTEM_DIRS
from tests.conftest import (
    free_sandbox_uids,
    require_root,
    require_tool,
    require_tree_limits,
    wait_for,
)
from tests.worker_node.conftest import processes_naming

PYTHON = "/usr/bin/python3"
MIB = 2**20


def _limits(**overrides):
    # A program that ends by itself or at its CPU limit must not meet the wall-clock limit
    # first, however loaded the machine (1 s of CPU may take tens of seconds then).
    limits = {"cpu_secs": 5, "wall_secs": 600.0, "memory_bytes": 256 * MIB, "processes": 20,
              "output_bytes": 1 * MIB, "log_bytes": 64 * 1024, "file_bytes": 16 * MIB,
              "open_files": 64, "disk_bytes": 64 * MIB}
    return Limits(**limits | overrides)


class Box:
    """A Sandbox with a private directory, running Python snippets."""

    def __init__(self, use_bwrap, hidden=(), extra_ro=(), masked=(), tree_limits=None):
        self.extra_ro = list(extra_ro)
        self.uids = free_sandbox_uids(2, range(300000, 380000, 8))
        self.first_uid = self.uids.firsts[0]
        self.sandbox = sandboxing.Sandbox(first_uid=self.first_uid, uid_count=2,
                                          bubblewrap=use_bwrap, ro_binds=SYSTEM_DIRS,
                                          hidden=hidden, masked=masked,
                                          tree_limits=tree_limits)
        self.root = Path(tempfile.mkdtemp(prefix="stechec-sandbox-test-"))
        self.root.chmod(0o711)
        self.home = self.root / "home"
        self.home.mkdir()
        self.log = self.root / "program.log"

    def start(self, code, guard=None, log=None, **limits):
        return self.spawn([PYTHON, "-c", code], guard=guard, log=log, **limits)

    def spawn(self, argv, guard=None, log=None, **limits):
        return self.sandbox.start(argv, writable=[str(self.home)],
                                  owned=[str(self.home)], cwd=str(self.home),
                                  env=sandboxing.environment(str(self.home), {}),
                                  limits=_limits(**limits), log_path=str(log or self.log),
                                  extra_ro=self.extra_ro, guard=guard)

    def run(self, code, **limits):
        return self.start(code, **limits).wait()

    def output(self):
        return self.log.read_text(errors="replace")

    def leftovers(self):
        if os.geteuid() != 0:
            return []
        return [pid for uid in range(self.first_uid, self.first_uid + 2)
                for pid in sandboxing.user_processes(uid)]

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)
        self.uids.release()


@pytest.fixture(params=["bwrap", "rlimits", "cgroups"])
def box(request):
    """A Box in each confinement mode: bubblewrap, rlimits alone, and bubblewrap with the
    whole-tree limits of this host's cgroups."""
    tree_limits = None
    if request.param != "rlimits":
        require_tool("bwrap", "bubblewrap mode is tested")
    if request.param == "cgroups":
        tree_limits = require_tree_limits("whole-tree limits are tested")
    box = Box(use_bwrap=request.param != "rlimits", tree_limits=tree_limits)
    yield box
    box.close()


@pytest.fixture
def tree_box():
    """A Box in bubblewrap, its programs' whole trees limited by this host's cgroups."""
    require_tool("bwrap", "whole trees are tested in bubblewrap")
    require_root("each program's group is made by root")
    box = Box(use_bwrap=True, tree_limits=require_tree_limits("whole trees are limited"))
    yield box
    box.close()


HOSTILE = {
    "infinite loop": ("while True: pass", {"cpu_secs": 1}, "CPU time limit (1 s) exceeded"),
    "sleep forever": ("import time; time.sleep(10**6)", {"wall_secs": 2.0},
                      "killed at the wall-clock limit (2 s)"),
    "10 GB allocation": ("bytearray(10 * 2**30)", {}, "out of memory (limit 256 MiB)"),
    "print 1 GB": ("import sys\nblock = b'x' * 2**20\n"
                   "for _ in range(1024): sys.stdout.buffer.write(block)", {},
                   "killed for printing more than 1 MiB"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_program_is_stopped(box, case):
    code, limits, reason = HOSTILE[case]
    outcome = box.run(code, **limits)
    assert not outcome.ok
    assert outcome.reason == reason
    assert len(box.output()) <= 64 * 1024 + 100
    assert box.leftovers() == []
    # The sandbox still runs programs afterwards.
    assert box.run("print('fine')").ok


def test_output_is_capped_in_the_log_not_buffered(box):
    outcome = box.run("import sys\nsys.stdout.write('y' * 300000)\nprint('end')")
    assert outcome.ok
    text = box.output()
    assert text.startswith("y" * 1000)
    assert text.endswith(f"[log truncated at {64 * 1024} bytes]\n")


def test_the_program_starts_in_its_directory_with_nothing_of_the_worker(box):
    # The guard is spawned without its descriptors being closed (posix_spawn) nor
    # its directory set: it closes and sets them itself.
    stray = os.open(os.devnull, os.O_RDONLY)
    # A free descriptor from 150 up: the test's own (the sandbox's uid locks) stay open.
    inheritable = fcntl.fcntl(stray, fcntl.F_DUPFD, 150)
    os.set_inheritable(inheritable, True)
    try:
        outcome = box.run(f"import os\nprint(os.getcwd())\n"
                          f"try:\n    os.fstat({inheritable})\nexcept OSError:\n"
                          f"    print('closed')")
    finally:
        os.close(stray)
        os.close(inheritable)
    assert outcome.ok, box.output()
    assert box.output().split() == [str(box.home), "closed"]


def test_a_program_gets_the_default_signal_dispositions(box):
    """The guard's Python ignores SIGPIPE and SIGXFSZ; its program must not inherit
    that, or a write beyond the file size limit would fail instead of killing it."""
    outcome = box.spawn(["/bin/cat", "/proc/self/status"]).wait()
    assert outcome.ok, box.output()
    [ignored] = [int(line.split()[1], 16) for line in box.output().splitlines()
                 if line.startswith("SigIgn:")]
    for number in (signal.SIGPIPE, signal.SIGXFSZ):
        assert not ignored & 1 << (number - 1), f"{number.name} ignored"


def test_a_write_past_the_file_size_limit_kills_the_program(box):
    outcome = box.spawn(["/bin/sh", "-c", "exec head -c 20000000 /dev/zero > big"]).wait()
    assert outcome.reason == "file size limit (16 MiB) exceeded"
    assert (box.home / "big").stat().st_size == 16 * MIB


def test_a_program_named_without_a_path_is_looked_up_in_its_own_path():
    box = Box(use_bwrap=False)
    try:
        programs = box.root / "bin"
        programs.mkdir()
        (programs / "hello").write_text("#!/bin/sh\necho hello from $0\n")
        (programs / "hello").chmod(0o755)
        env = sandboxing.environment(str(box.home), {}, path_dirs=[str(programs)])

        def run(name):
            return box.sandbox.start([name], writable=[str(box.home)], owned=[str(box.home)],
                                     cwd=str(box.home), env=env, limits=_limits(),
                                     log_path=str(box.log)).wait()

        assert run("hello").ok
        assert box.output() == f"hello from {programs / 'hello'}\n"
        assert run("no-such-program").reason == "exited with status 127"
        assert "cannot run no-such-program: No such file or directory" in box.output()
    finally:
        box.close()


def test_fork_bomb_is_bounded(box):
    require_root("the process limit only holds for the sandbox's own user ids")
    code = """
import os, time
n = 0
while True:
    try:
        if os.fork() == 0:
            time.sleep(1000)
        n += 1
    except OSError:
        print("refused after", n, flush=True)
        time.sleep(1000)
"""
    bomb = box.start(code, processes=20)
    waiter = gevent.spawn(bomb.wait)
    deadline = time.monotonic() + 90
    while "refused after" not in box.output():
        assert not waiter.ready(), f"the fork bomb ended: {box.output()}"
        assert time.monotonic() < deadline, "timed out after 90 s waiting for a fork refused"
        # Lets the greenlet reading the program's output write the log.
        gevent.sleep(0.05)
    # Every process it made sleeps until killed: they are all there.
    assert 0 < len(box.leftovers()) <= 20
    bomb.kill(sandboxing.KillReason.CANCEL)
    assert waiter.get().reason == "cancelled"
    assert box.leftovers() == []


def test_process_that_leaves_its_group_is_killed(box):
    require_root("escaped processes are found by their user id")
    code = """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(1000)
    os._exit(0)
os.wait()
"""
    outcome = box.run(code)
    assert outcome.ok, box.output()
    assert box.leftovers() == []


def _guard_pid(run):
    """The pid of `run`'s program guard, once it has said it (the hub reads it)."""
    while run.proc.pid is None:
        gevent.sleep(0.02)
    return run.proc.pid


def _parent(pid):
    with open(f"/proc/{pid}/stat", "rb") as f:
        return int(f.read().rsplit(b")", 1)[1].split()[1])


def test_programs_sharing_a_guard_are_guarded_and_reported_apart(box):
    """A match's programs run under one guard process, each under a program guard of
    its own: what one used is not counted to another, even from the kernel's resource
    usage of reaped processes (no cgroup)."""
    guard = sandboxing.Guard([False, False])
    try:
        spinner = box.start("while True: pass", guard=guard, cpu_secs=1,
                            log=box.root / "spinner.log")
        assert _parent(_guard_pid(spinner)) == guard.pid
        assert spinner.wait().reason == "CPU time limit (1 s) exceeded"
        quick = box.start("print('quick')", guard=guard, log=box.root / "quick.log")
        assert _guard_pid(quick) != spinner.proc.pid
        outcome = quick.wait()
    finally:
        guard.close()
    assert outcome.ok, (outcome, (box.root / "quick.log").read_text())
    assert (box.root / "quick.log").read_text() == "quick\n"
    assert outcome.verdict["cpu_ms"] < 1000, outcome.verdict
    assert box.leftovers() == []
    # Once its programs are done, the guard exits (and the hub reaps it).
    with gevent.Timeout(90):
        while os.path.exists(f"/proc/{guard.pid}"):
            gevent.sleep(0.05)


def test_a_program_whose_guard_is_killed_alone_is_reported_killed(box):
    """The system kills one program's guard (the OOM killer, say): that program is
    killed and says so; the match's other program runs on under the same guard."""
    guard = sandboxing.Guard([False, False])
    try:
        first = box.start("import time; time.sleep(1000)", guard=guard,
                          log=box.root / "first.log")
        second = box.start("import time; time.sleep(1000)", guard=guard,
                           log=box.root / "second.log")
        os.kill(_guard_pid(first), signal.SIGKILL)
        outcome = first.wait()
        assert outcome.reason == "killed by SIGKILL (by the system)", outcome
        assert outcome.verdict["signal"] == "SIGKILL"
        assert second.proc.poll() is None
        second.kill(sandboxing.KillReason.CANCEL)
        assert second.wait().reason == "cancelled"
    finally:
        guard.close()
    assert box.leftovers() == []


# A worker that runs one program (its code in $PROGRAM) in a Box, says where
# the box is, and waits to be killed.
STANDIN_WORKER = """
import os
import sys
import gevent
from tests.worker_node.test_sandbox import Box
from stechec.worker_node.sandbox import Guard
box = Box(use_bwrap=sys.argv[1] == "bwrap")
assert (box.sandbox.bwrap is not None) == (sys.argv[1] == "bwrap")
# As a match's guard: a second program (a client) not started yet.
guard = Guard([False, False]) if sys.argv[2] == "match" else None
box.start(os.environ["PROGRAM"], guard=guard)
print(box.root, guard.pid if guard else 0, flush=True)
gevent.sleep(3600)
"""
# Stands for bubblewrap while it builds the sandbox: its child, which will
# become the sandbox's first process, does not yet die with it.
BUILDING_BWRAP = """#!/bin/sh
/usr/bin/python3 -c 'import time; time.sleep(1000)' "$@" &
echo building
wait
"""


@pytest.mark.parametrize("case", ["bubblewrap building the sandbox", "rlimits, forked child",
                                  "bubblewrap, a match's guard"])
def test_a_killed_worker_leaves_no_program_behind(tmp_path, case):
    """A program's process that does not die with its parent used to outlive a SIGKILLed
    worker: the parent died of the worker's death (PR_SET_PDEATHSIG), the child went on.
    Bubblewrap's child is such a process until the sandbox is built; so is a
    champion's child without bubblewrap."""
    marker = f"stechec-orphan-{uuid.uuid4().hex}"
    env = dict(os.environ)
    if case == "bubblewrap building the sandbox":
        fake = tmp_path / "bin"
        fake.mkdir()
        (fake / "bwrap").write_text(BUILDING_BWRAP)
        (fake / "bwrap").chmod(0o755)
        env["PATH"] = f"{fake}:{env['PATH']}"
    env["PROGRAM"] = f"import os, time\nos.fork()\ntime.sleep(1000)  # {marker}"
    # Real bubblewrap's two processes name the program too.
    expected = 2
    if case == "bubblewrap, a match's guard":
        require_tool("bwrap", "the match's program runs in bubblewrap")
        expected = 4
    worker = subprocess.Popen(
        [sys.executable, "-c", STANDIN_WORKER, "bwrap" if "bubblewrap" in case else "rlimits",
         "match" if "match" in case else "alone"],
        cwd=Path(__file__).resolve().parents[2], env=env, stdout=subprocess.PIPE, text=True)
    root, _, guard = worker.stdout.readline().strip().partition(" ")
    try:
        assert root, "the stand-in worker did not start its program"
        # The fake bwrap and its child, or the program and its child (and bubblewrap).
        wait_for(lambda: len(processes_naming(marker)) == expected, "the program's processes")
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
        wait_for(lambda: not processes_naming(marker), "the programs of the killed worker "
                 "to be gone", timeout=30)
        if int(guard):
            # Nor the match's guard, waiting for the program never started.
            wait_for(lambda: not os.path.exists(f"/proc/{guard}"), "the match's guard to exit",
                     timeout=30)
    finally:
        for pid in processes_naming(marker):
            os.kill(pid, signal.SIGKILL)
        worker.kill()
        worker.wait(30)
        worker.stdout.close()
        if root:
            shutil.rmtree(root, ignore_errors=True)


def test_filesystem_and_network_are_confined(tmp_path):
    require_tool("bwrap", "bubblewrap confines the filesystem and the network")
    # As /etc/stechec/worker-node.yml in /etc: a visible directory, a hidden file.
    tmp_path.chmod(0o755)
    secret = tmp_path / "worker-node.yml"
    secret.write_text("shared_secret: hunter2\n")
    secret.chmod(0o644)
    # As a shared directory inside a visible checkout: masked.
    share = tmp_path / "share"
    share.mkdir()
    (share / "champion.tgz").write_text("another player's sources")
    box = Box(use_bwrap=True, hidden=[str(secret)], extra_ro=[str(tmp_path)],
              masked=[str(share)])
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    try:
        outside = tmp_path / "escaped"
        code = f"""
import socket
for path in [{str(outside)!r}, "/etc/escaped", "/usr/escaped", {str(box.root / "escaped")!r}]:
    try:
        open(path, "w").write("x")
        print("WROTE", path)
    except OSError as e:
        print("refused", path, e.strerror)
open("/tmp/private", "w").write("x")
open("inside", "w").write("x")
try:
    print("SECRET", open({str(secret)!r}).read())
except OSError as e:
    print("SECRET", e.strerror)
import os
print("SHARE", os.listdir({str(share)!r}))
for address in [("127.0.0.1", {listener.getsockname()[1]}), ("1.1.1.1", 80)]:
    try:
        socket.create_connection(address, timeout=5)
        print("CONNECTED", address)
    except OSError as e:
        print("no network", address, e.strerror)
"""
        outcome = box.run(code)
        text = box.output()
        assert outcome.ok, text
        assert "WROTE" not in text and "CONNECTED" not in text
        assert sum(line.startswith("refused ") for line in text.splitlines()) == 4
        assert "SECRET Permission denied" in text, text
        assert "SHARE []" in text
        assert "hunter2" not in text
        assert "no network ('1.1.1.1', 80) Network is unreachable" in text
        assert not outside.exists() and not Path("/etc/escaped").exists()
        assert not Path("/tmp/private").exists()
        assert (box.home / "inside").exists()
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
        box.close()


def test_broken_bubblewrap_falls_back_with_one_warning(tmp_path, monkeypatch, caplog):
    # bubblewrap works on this machine: a stand-in bwrap plays one that cannot
    # create namespaces (as in some containers).
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: Creating new namespace failed: "
                                "Operation not permitted' >&2\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    box = Box(use_bwrap=True)
    try:
        assert box.sandbox.bwrap == str(fake / "bwrap")
        with caplog.at_level(logging.WARNING):
            (box.root / "probe").mkdir()
            box.sandbox.probe(str(box.root / "probe"))
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "bubblewrap cannot run here" in warnings[0]
        assert "Operation not permitted" in warnings[0]
        assert box.sandbox.bwrap is None
        outcome = box.run("while True: pass", cpu_secs=1)
        assert outcome.reason == "CPU time limit (1 s) exceeded"
    finally:
        box.close()


def test_the_verdict_names_the_signal_and_what_the_program_used(box):
    code = ("import os, signal\nheld = bytearray(100 * 2**20)\n"
            "os.kill(os.getpid(), signal.SIGSEGV)")
    verdict = box.run(code).verdict
    assert (verdict["ended"], verdict["signal"], verdict["exit_status"]) == \
        ("signal", "SIGSEGV", None)
    assert verdicts.describe(verdict) == "crashed: segmentation fault (SIGSEGV)"
    assert verdict["peak_memory_kib"] >= 100 * 1024
    assert verdict["memory_from"] == ("cgroup" if box.sandbox.tree_limits.memory else "rusage")
    assert verdict["cpu_ms"] > 0 and verdict["wall_ms"] > 0


def test_a_forked_tree_cannot_exceed_its_memory_limit_in_total(tree_box):
    """8 children of 200 MB each under 512 MiB: each fits its own rlimit, not the tree."""
    # Each child holds its 200 MB until all eight have theirs.
    code = """
import os
allocated, release = os.pipe(), os.pipe()
for _ in range(8):
    if os.fork() == 0:
        block = bytearray(200 * 2**20)
        os.write(allocated[1], b"x")
        os.read(release[0], 1)
        os._exit(0)
got = 0
while got < 8:
    got += len(os.read(allocated[0], 8))
os.close(release[1])
"""
    outcome = tree_box.run(code, memory_bytes=512 * MIB)
    assert outcome.verdict["limit"] == "memory", (outcome, tree_box.output())
    assert verdicts.describe(outcome.verdict) == "stopped: used more than 512 MiB of memory"
    assert outcome.verdict["peak_memory_kib"] <= 512 * 1024
    assert tree_box.leftovers() == []
    assert tree_box.run("print('fine')").ok


def test_the_cpu_time_of_a_whole_tree_is_limited(tree_box):
    """Three spinning children: each stays under its own CPU rlimit until the tree's
    total has long passed it."""
    code = """
import os
children = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        while True:
            pass
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
"""
    outcome = tree_box.run(code, cpu_secs=2)
    assert outcome.verdict["limit"] == "cpu", (outcome, tree_box.output())
    assert outcome.reason == "CPU time limit (2 s) exceeded"
    # The guard reads the group's counters five times a second: the tree stops well
    # before 3 x 2 s, what three per-process limits would have let it use.
    assert 2000 <= outcome.verdict["cpu_ms"] < 4000
    assert tree_box.leftovers() == []


def test_a_thread_bomb_is_stopped_at_the_process_limit(tree_box):
    code = """
import threading, time
threads = 0
while True:
    threading.Thread(target=time.sleep, args=(1000,), daemon=True).start()
    threads += 1
"""
    outcome = tree_box.run(code, processes=20)
    assert "can't start new thread" in tree_box.output()
    assert outcome.verdict["limit"] == "processes", (outcome, tree_box.output())
    assert verdicts.describe(outcome.verdict) == \
        "stopped: tried to run more than 20 processes and threads at once"
    assert tree_box.leftovers() == []


def test_a_program_filling_its_directory_is_stopped(box):
    """Files of 1 MiB each, under the file size limit one by one, past disk_bytes in all."""
    code = """
import itertools
block = b"x" * 2**20
for n in itertools.count():
    with open(f"file-{n}", "wb") as f:
        f.write(block)
"""
    outcome = box.run(code, disk_bytes=32 * MIB)
    assert outcome.verdict["limit"] == "disk", (outcome, box.output())
    assert verdicts.describe(outcome.verdict) == \
        "stopped: wrote more than 32 MiB in its directories"
    assert box.leftovers() == []


def test_the_start_line_says_which_limits_fall_back_to_rlimits():
    assert cgroups.TreeLimits(why_not="no cgroup mounted").describe() == (
        "sandbox: limits on a program's whole tree: none; through rlimits instead: memory "
        "(address space, per process), processes (per sandbox user id as root, else per "
        "user), CPU time (per process) (no cgroup mounted)")
    partial = cgroups.TreeLimits(1, {"pids": "/sys/fs/cgroup/pids/x"},
                                 "no cgroup v1 memory controller")
    assert partial.describe() == (
        "sandbox: limits on a program's whole tree: processes through cgroup v1 (pids); "
        "through rlimits instead: memory (address space, per process), CPU time (per "
        "process) (no cgroup v1 memory controller)")


def test_a_delegated_cgroup_v2_subtree_is_laid_out_as_v2_asks(tmp_path):
    """This machine's cgroups may be v1: the v2 layout is checked on a stand-in tree of
    plain files (the kernel's rules, such as no process where controllers are enabled for
    children, are what the layout follows)."""
    own = tmp_path / "system.slice" / "worker-node.service"
    own.mkdir(parents=True)
    (own / "cgroup.controllers").write_text("cpu memory pids\n")
    found = cgroups._delegated_v2(str(tmp_path), "/system.slice/worker-node.service")
    assert found.version == 2 and found.memory and found.processes and found.cpu
    assert (own / f"stechec-worker-{os.getpid()}" / "cgroup.procs").read_text() == \
        str(os.getpid())
    assert (own / "cgroup.subtree_control").read_text() == "+memory +pids"
    programs = own / "stechec-programs"
    assert (programs / "cgroup.subtree_control").read_text() == "+memory +pids"
    group = found.group(_limits(memory_bytes=256 * MIB, processes=20), extra_processes=2)
    assert (programs / "run-1" / "memory.max").read_text() == str(256 * MIB)
    assert (programs / "run-1" / "pids.max").read_text() == "22"
    assert group.procs == [str(programs / "run-1" / "cgroup.procs")]
    assert set(group.counters) >= {"cpu_ns", "oom_kills", "memory_full", "pids_refused"}
    assert cgroups._delegated_v2(str(tmp_path), "/elsewhere").startswith(str(tmp_path))
