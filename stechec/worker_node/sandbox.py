"""Running untrusted programs: compile scripts, game servers and champions.

Every program runs under a guard of its own (guard.py: a small process
between the worker and the program, in its own session, forked for it by
the guard process of its match or compilation: `Guard`), which starts it
under rlimits (CPU seconds, address space, processes, file size, open
files, no core dumps) and kills everything it left when it ends, when the
worker kills it, and when the worker dies. A wall clock kills it, and its
output is read as it comes, kept up to a cap and counted: a program
printing more than its limit is killed, and nothing ever buffers its whole
output. When the worker runs as root each program runs as an unprivileged
user id of its own, because root ignores the process limit.

Where bubblewrap works, each program also gets its own network namespace
(nothing but its own loopback), its own PID namespace (killing bwrap kills
everything inside, even processes that left the group), a read-only view of
the system directories and of the game's installation only (not the shared
directory, not the worker's configuration), a private /tmp, and its own
directories as the only writable places. Every path the worker's
configuration names (programs, rules, player environment, library
directories of `paths.env`) is shown where it lies, under /tmp too, and
where it was named when that was through a symbolic link.
"""

import enum
import fcntl
import logging
import marshal
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field

import gevent
import gevent.event
import gevent.os

from stechec.common.verdicts import human_bytes
from stechec.worker_node import cgroups
from stechec.worker_node.limits import Limits

logger = logging.getLogger(__name__)

GUARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guard.py")
CHUNK = 64 * 1024
# How long the output readers may run on once the program is dead.
READER_GRACE_SECS = 5.0
# Messages runtimes print when an allocation fails under the address-space limit.
OUT_OF_MEMORY_MARKERS = (b"MemoryError", b"bad_alloc", b"Cannot allocate memory",
                         b"out of memory", b"Out of memory")


class KillReason(enum.StrEnum):
    """Why the worker killed a program."""

    # It ran past its wall-clock limit.
    WALL = "wall"
    # It printed more than its output limit.
    OUTPUT = "output"
    # Its task was cancelled, or the worker failed running it.
    CANCEL = "cancel"
    # A match's client still running once the game server had finished.
    AFTER_SERVER = "after-server"


@dataclass
class Outcome:
    """How a sandboxed program ended."""

    returncode: int | None
    reason: str = ""            # empty when it exited with status 0
    # Why the worker killed it, None when it was not.
    killed_for: KillReason | None = None
    stdout: bytes = field(default=b"", repr=False)   # when captured apart from the log
    # What results carry about it (stechec.common.verdicts).
    verdict: dict = field(default_factory=dict)

    @property
    def ok(self):
        return self.returncode == 0 and self.killed_for is None

    @property
    def exit_status(self):
        """The exit status for reports: negative for a signal, None when killed by the worker."""
        return None if self.killed_for else self.returncode


class UidsInUse(Exception):
    """Another worker on this machine runs its programs under the same user ids."""


# One lock file per sandbox user id, held while a worker lives: two workers
# sharing ids would kill each other's programs (every process left under an
# id is killed when its program ends).
UID_LOCK_DIR = "/run/lock/stechec-worker-uids"


def lock_uid_file(name):
    """A descriptor holding the lock on file `name` of UID_LOCK_DIR, or None if another
    process holds it."""
    os.makedirs(UID_LOCK_DIR, exist_ok=True)
    descriptor = os.open(os.path.join(UID_LOCK_DIR, name), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def _claim_uid(uid):
    descriptor = lock_uid_file(str(uid))
    if descriptor is None:
        raise UidsInUse(f"user id {uid} is already used by another worker-node on this "
                        "machine: give each worker its own sandbox.first_uid range "
                        "(available_slots ids each)")
    return descriptor


def uid_claimed(uid):
    """Whether a live worker-node on this machine holds sandbox user id `uid` (as root).

    For whoever picks a worker's `first_uid` (stechec.local.uids). The probe
    takes the lock for an instant only: a worker claiming this very id at that
    instant would be refused, but then the two were after the same id anyway.
    """
    try:
        descriptor = os.open(os.path.join(UID_LOCK_DIR, str(uid)), os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


class Sandbox:
    """How this worker confines programs; `start()` runs one.

    As root, each program runs as a user id of its own, taken from
    `first_uid .. first_uid + uid_count - 1` (group `first_uid`) and given
    back once every process of that user id is dead: the process limit then
    counts that program's processes only, champions cannot signal or read
    each other, and a program that escaped its process group is still found.
    """

    def __init__(self, *, first_uid, uid_count, bubblewrap, ro_binds, hidden=(), masked=(),
                 tree_limits=None):
        self.as_root = os.geteuid() == 0
        # cgroups.TreeLimits: the limits that hold for a program's whole tree here.
        self.tree_limits = tree_limits or cgroups.TreeLimits(why_not="not asked for")
        self.gid = first_uid if self.as_root else None
        self._free_uids = list(range(first_uid, first_uid + uid_count)) if self.as_root else []
        self._uid_locks = [_claim_uid(uid) for uid in self._free_uids]
        self.ro_binds = list(dict.fromkeys(ro_binds))
        self.hidden = [p for p in hidden if os.path.isfile(p)]
        # Directories programs must never see, even inside a visible one (the
        # shared directory and the work directory inside a checkout, say).
        self.masked = [os.path.realpath(p) for p in masked]
        self.bwrap = self.setpriv = None
        if bubblewrap:
            self.bwrap = shutil.which("bwrap")
            self.setpriv = shutil.which("setpriv")
            if self.bwrap is None:
                logger.warning("sandbox: bubblewrap (bwrap) is not installed: programs run "
                               "with rlimits only (network and filesystem are not confined)")
            elif self.as_root and self.setpriv is None:
                logger.warning("sandbox: setpriv (util-linux) is not installed, so bubblewrap "
                               "cannot change user: programs run with rlimits only")
                self.bwrap = None

    def probe(self, scratch):
        """Check that bubblewrap runs here; fall back to rlimits alone with one warning."""
        if self.bwrap is None:
            return
        limits = Limits(cpu_secs=10, wall_secs=30.0, memory_bytes=1 << 30, processes=64,
                        output_bytes=1 << 20, log_bytes=1 << 16, file_bytes=1 << 20,
                        open_files=64, disk_bytes=1 << 20)
        log = os.path.join(scratch, "probe.log")
        outcome = self.start(["true"], writable=[scratch], owned=[scratch], cwd=scratch,
                             env=_base_env(scratch), limits=limits, log_path=log).wait()
        if not outcome.ok:
            with open(log, "rb") as f:
                detail = f.read(500).decode(errors="replace").strip() or outcome.reason
            logger.warning("sandbox: bubblewrap cannot run here (%s): programs run with "
                           "rlimits only", detail)
            self.bwrap = None
        else:
            logger.info("sandbox: bubblewrap works: no network, read-only system")

    def start(self, argv, *, writable, cwd, env, limits, log_path, owned=(),
              capture_stdout=False, extra_ro=(), guard=None):
        """Start `argv` in `cwd`, able to write in the `writable` directories only.

        The `owned` directories are given (recursively) to the program's user first.
        `guard` is the Guard of the match the program belongs to; without one, the
        program gets a guard of its own.
        """
        uid = self._take_uid()
        group = None
        try:
            for directory in owned:
                self._give(directory, uid)
            if self.bwrap:
                argv = (self._bwrap_argv(writable, cwd, extra_ro, limits.disk_bytes)
                        + self._setpriv(uid) + list(argv))
            # bubblewrap's two processes (outside and the namespace's first) are in the
            # group too, not among the program's (nor in its user id's process rlimit).
            group = self.tree_limits.group(limits, extra_processes=2 if self.bwrap else 0)
            return Run(argv, cwd=cwd, env=env, limits=limits, log_path=log_path,
                       capture_stdout=capture_stdout, via_bwrap=bool(self.bwrap),
                       writable=writable, guard=guard,
                       uid=None if self.bwrap else uid, gid=self.gid, group=group,
                       on_exit=lambda contained: self._return_uid(uid, contained))
        except BaseException:
            if group is not None:
                group.remove()
            self._return_uid(uid)
            raise

    def _take_uid(self):
        if not self.as_root:
            return None
        if not self._free_uids:
            raise RuntimeError("no sandbox user id left (more programs than slots)")
        return self._free_uids.pop(0)

    def _return_uid(self, uid, contained=False):
        """Give `uid` back; unless `contained`, once its last process is killed.

        `contained`: the program ran in bubblewrap's PID namespace and bubblewrap
        exited on its own, which it does only after the namespace's first
        process, and so (the kernel kills and reaps them first) every process
        of the namespace, has died. Scanning /proc for the user's processes is
        then needless, and it is the slowest part of ending a program on a busy
        machine (a read of every process's status, on the worker's event loop).
        """
        if uid is None:
            return
        if not contained:
            _kill_user(uid)
        self._free_uids.append(uid)

    def _give(self, directory, uid):
        if uid is None:
            return
        for root, dirs, files in os.walk(directory):
            os.chown(root, uid, self.gid)
            for name in dirs + files:
                os.chown(os.path.join(root, name), uid, self.gid, follow_symlinks=False)

    def _setpriv(self, uid):
        if uid is None:
            return []
        return [self.setpriv, f"--reuid={uid}", f"--regid={self.gid}", "--clear-groups",
                "--no-new-privs", "--"]

    def _bwrap_argv(self, writable, cwd, extra_ro, tmp_bytes):
        # No user namespace as root: the program's user id must be a real one
        # for the process limit to hold (setpriv switches to it inside).
        argv = [self.bwrap, "--die-with-parent", "--new-session", "--unshare-ipc",
                "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        if not self.as_root:
            argv.append("--unshare-user")
        for path in self.ro_binds:
            if os.path.islink(path):
                # /bin -> usr/bin and the like: the same link inside.
                argv += ["--symlink", os.readlink(path), path]
            elif os.path.exists(path):
                argv += ["--ro-bind", path, path]
        # The private /tmp is memory: bounded as the directories are (its guard cannot see
        # it to measure it).
        argv += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size",
                 str(tmp_bytes), "--tmpfs", "/tmp"]
        visible = [os.path.realpath(p) for p in self.ro_binds]
        extra = [p for p in _outermost(os.path.realpath(p) for p in extra_ro)
                 if os.path.exists(p)]
        made = set()
        for path in extra:
            if not _inside_any(path, self.masked):
                argv += _parents(path, made) + ["--ro-bind", path, path]
                visible.append(path)
        # A path reached through symbolic links (a configured /tmp/engine/lib
        # linking elsewhere, say) is also shown where it was named: programs
        # are given it so.
        aliases = {}
        for path in extra_ro:
            named, real = os.path.abspath(path), os.path.realpath(path)
            if named != real and os.path.exists(real) and not _inside_any(named, visible):
                aliases[named] = real
        for named in _outermost(aliases):
            if not _inside_any(named, self.masked):
                argv += _parents(named, made) + ["--ro-bind", aliases[named], named]
        for path in self.hidden:
            argv += ["--ro-bind", "/dev/null", path]
        for path in self.masked:
            if _inside_any(path, visible):
                argv += ["--tmpfs", path]
        # What the task itself may see inside the masked directories comes last.
        made = set()
        for path in extra:
            if _inside_any(path, self.masked):
                argv += _parents(path, made) + ["--ro-bind", path, path]
        for path in writable:
            argv += _parents(path, made) + ["--bind", path, path]
        return argv + ["--chdir", cwd, "--"]


def _inside_any(path, directories):
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in directories)


def _outermost(paths):
    """`paths` without those inside another one of them."""
    paths = sorted(set(paths))
    kept = []
    for path in paths:
        if not any(path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def _parents(path, made):
    """bwrap arguments making the missing parents of `path` traversable by anyone.

    bubblewrap would create them with mode 0700, closed to the program's user.
    """
    argv = []
    parent = os.path.dirname(path)
    chain = []
    while parent not in ("/", "") and parent not in made:
        chain.append(parent)
        parent = os.path.dirname(parent)
    for directory in reversed(chain):
        argv += ["--perms", "0755", "--dir", directory]
        made.add(directory)
    return argv


class Run:
    """One running program: `wait()` for its `Outcome`, `kill(why)` to stop it.

    `proc` is the program's end of its guard (a `Program` of a `Guard`, the
    match's or its own): the guard kills everything the program started as
    soon as the program ends or its lifeline closes, then reports how it
    ended.
    """

    def __init__(self, argv, *, cwd, env, limits, log_path, capture_stdout, uid, gid,
                 via_bwrap, on_exit, group=None, writable=(), guard=None):
        self.limits = limits
        self.group = group
        self._on_exit = on_exit
        self.via_bwrap = via_bwrap
        self.killed_for = None
        self.started = time.monotonic()
        self._stdout = bytearray()
        self._tail = b""
        self._logged = 0
        self._log_truncated = False
        self._log = open(log_path, "ab")
        try:
            self.proc = (guard or Guard([capture_stdout])).take(capture_stdout)
        except BaseException:
            self._log.close()
            raise
        spec = marshal.dumps({"argv": list(argv), "env": dict(env), "limits": limits.as_data(),
                              "uid": uid, "gid": gid, "cwd": cwd, "writable": list(writable),
                              "group": group and {"procs": group.procs,
                                                  "counters": group.counters}})
        try:
            _write_all(self.proc.lifeline, len(spec).to_bytes(8, "little") + spec)
        except OSError:
            self.proc.let_go()   # the guard is gone, or goes on seeing the pipe closed
        self.proc.follow()
        if capture_stdout:
            self._readers = [gevent.spawn(self._pump, self.proc.stdout, self._keep_stdout),
                             gevent.spawn(self._pump, self.proc.stderr, self._write_log)]
        else:
            self._readers = [gevent.spawn(self._pump, self.proc.stdout, self._write_log)]

    def kill(self, why):
        """Have the guard kill everything; `why` (a KillReason) is kept from the first kill
        of a live program."""
        if self.killed_for is None and self.proc.poll() is None:
            self.killed_for = why
        self.proc.let_go()

    def wait(self):
        remaining = self.limits.wall_secs - (time.monotonic() - self.started)
        if not self.proc.wait(timeout=max(remaining, 0)):
            self.kill(KillReason.WALL)
            self.proc.wait()
        self.proc.let_go()
        # The guard leaves nothing behind, unless it was killed itself (by the
        # system): then what it ran is still in its session.
        if self.proc.pid is not None:
            _kill_group(self.proc.pid)
        finished = gevent.joinall(self._readers, timeout=READER_GRACE_SECS)
        if len(finished) < len(self._readers):
            # A process the guard could not kill (it was killed itself) holds the pipe.
            gevent.killall(self._readers)
        wall_secs = time.monotonic() - self.started
        facts = self.proc.facts
        self.proc.close()
        self._log.close()
        if self.group is not None:
            self.group.remove()
        # bubblewrap killed by a signal (ours, or the system's) leaves the
        # killing of its namespace to the kernel, which may not be done yet.
        self._on_exit(self.via_bwrap and self.killed_for is None and self.proc.returncode >= 0)
        verdict = self._verdict(facts, wall_secs)
        return Outcome(self.proc.returncode, self._reason(verdict), self.killed_for,
                       bytes(self._stdout), verdict)

    def _pump(self, descriptor, sink):
        total = 0
        while True:
            try:
                chunk = gevent.os.nb_read(descriptor, CHUNK)
            except OSError:
                return
            if not chunk:
                return
            total += len(chunk)
            self._tail = (self._tail + chunk)[-4096:]
            if total > self.limits.output_bytes:
                self.kill(KillReason.OUTPUT)
                return
            sink(chunk)

    def _keep_stdout(self, chunk):
        self._stdout += chunk

    def _write_log(self, chunk):
        room = self.limits.log_bytes - self._logged
        if room > 0:
            self._log.write(chunk[:room])
        if len(chunk) > room and not self._log_truncated:
            self._log_truncated = True
            self._log.write(b"\n[log truncated at %d bytes]\n" % self.limits.log_bytes)
        self._log.flush()
        self._logged += len(chunk)

    def _signal(self):
        """The signal that killed the program, or None."""
        code = self.proc.returncode
        if code < 0:
            return -code
        if self.via_bwrap and code > 128:
            # bubblewrap exits with 128 + the signal that killed its child.
            return code - 128
        return None

    def _verdict(self, facts, wall_secs):
        """How the program ended, which limit stopped it, what it used: the verdict that
        results carry (stechec.common.verdicts says it in words)."""
        limits = self.limits
        sig = self._signal()
        cpu_ns = facts.get("cpu_ns", 0)
        limit = {KillReason.WALL: "wall", KillReason.OUTPUT: "output"}.get(
            self.killed_for) or facts.get("stopped_by")
        if self.killed_for is KillReason.CANCEL:
            limit = None   # whatever it was doing, it was stopped for that
        elif limit is None and facts.get("oom_kills"):
            limit = "memory"
        elif limit is None and (sig == signal.SIGXCPU or (
                sig == signal.SIGKILL and cpu_ns >= limits.cpu_secs * 10**9)):
            limit = "cpu"
        elif limit is None and sig == signal.SIGXFSZ:
            limit = "file_size"
        elif limit is None and facts.get("memory_from") != "cgroup" and self.proc.returncode and (
                any(marker in self._tail for marker in OUT_OF_MEMORY_MARKERS)
                or sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS)
                and b"alloc" in self._tail):
            # Without a memory cgroup an allocation fails under the address-space limit.
            limit = "memory"
        elif limit is None and facts.get("pids_refused") and (
                self.proc.returncode or self.killed_for):
            limit = "processes"
        if limit == "cpu" and facts.get("memory_full") and \
                facts.get("peak_memory_bytes", 0) >= limits.memory_bytes:
            # At its memory limit the kernel reclaims and faults back the program's own
            # pages (its code too) before it kills one: that burns CPU time, and the CPU
            # limit may stop the program first. It wanted more memory than it had.
            limit = "memory"
        if limit:
            ended = "limit"
        elif self.killed_for in (KillReason.AFTER_SERVER, KillReason.CANCEL):
            ended = self.killed_for.replace("-", "_")
        else:
            ended = "signal" if sig else "exit"
        return {
            "ended": ended,
            "exit_status": None if sig or self.killed_for else self.proc.returncode,
            "signal": _signal_name(sig) if sig else "",
            "limit": limit or "",
            "limit_value": limits.in_words(limit) if limit else "",
            "cpu_ms": cpu_ns // 10**6,
            "wall_ms": int(wall_secs * 1000),
            "peak_memory_kib": facts.get("peak_memory_bytes", 0) // 1024,
            "memory_from": facts.get("memory_from", "rusage"),
        }

    def _reason(self, verdict):
        """The verdict in the words of the worker's logs."""
        limits = self.limits
        if verdict["limit"] == "wall":
            return f"killed at the wall-clock limit ({limits.wall_secs:g} s)"
        if verdict["limit"] == "output":
            return f"killed for printing more than {human_bytes(limits.output_bytes)}"
        if verdict["ended"] == "cancel":
            return "cancelled"
        if verdict["ended"] == "after_server":
            return "killed: still running after the game server had finished"
        if verdict["limit"] == "cpu":
            return f"CPU time limit ({limits.cpu_secs} s) exceeded"
        if verdict["limit"] == "file_size":
            return f"file size limit ({human_bytes(limits.file_bytes)}) exceeded"
        if verdict["limit"] == "memory":
            return f"out of memory (limit {human_bytes(limits.memory_bytes)})"
        if verdict["limit"] == "disk":
            return (f"stopped: more than {human_bytes(limits.disk_bytes)} written in its "
                    "directories")
        if verdict["limit"] == "processes":
            return f"stopped: more processes than its limit ({limits.processes})"
        if verdict["signal"] == "SIGKILL":
            return "killed by SIGKILL (by the system)"
        if verdict["signal"]:
            return f"killed by signal {verdict['signal']}"
        code = self.proc.returncode
        return f"exited with status {code}" if code else ""


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class Guard:
    """A guard process (guard.py) for the programs of a match, or for one program:
    `captures` says, for each, whether its standard output is kept apart from its
    log (the game server's scores). `take(capture_stdout)` gives one's `Program`.

    One process for the match's programs: starting a guard is a Python start,
    ~8 ms of CPU, and the match's clients start soon after its server; the
    guard forks a program guard for each. Each program's pipes are made here,
    before the guard starts, so that it gets them all as it starts: its
    control and report pipes, its output.

    Started with posix_spawn, which does not copy the worker's memory as a
    fork does (gevent's Popen forks the whole worker, a few milliseconds of
    CPU each); nor does it run anything in the child, which the guard does
    not need: it applies the limits, the user id and the directory itself,
    and closes every descriptor it did not get on purpose. libev reaps every
    child of the worker; a child watcher started before the hub runs again
    reaps the guard. What the worker learns of a program comes on its report
    pipe, from its program guard.
    """

    def __init__(self, captures):
        self._free = []
        ends = []   # the guard's ends of each program's pipes
        try:
            for capture in captures:
                control, lifeline = os.pipe()
                report_r, report_w = os.pipe()
                out_r, out_w = os.pipe()
                err_r, err_w = os.pipe() if capture else (None, out_w)
                self._free.append(Program(capture, lifeline, report_r, out_r, err_r))
                ends.append((control, report_w, out_w, err_w))
            # Inheritable for the spawn only: the worker spawns from the hub, one at a time.
            for descriptor in {d for program in ends for d in program}:
                os.set_inheritable(descriptor, True)
            self.pid = os.posix_spawn(
                sys.executable,
                [sys.executable, "-I", "-S", GUARD,
                 *(":".join(map(str, program)) for program in ends)], os.environ,
                file_actions=[(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                              (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                              (os.POSIX_SPAWN_DUP2, 1, 2)],
                setsid=True, setsigmask=())
        except BaseException:
            self.close()
            raise
        finally:
            for descriptor in {d for program in ends for d in program}:
                os.close(descriptor)
        self._watcher = gevent.get_hub().loop.child(self.pid, False)
        self._watcher.start(self._watcher.close)

    def take(self, capture_stdout):
        """The next program's Program; its description is written on its lifeline."""
        for program in self._free:
            if program.capture == capture_stdout:
                self._free.remove(program)
                return program
        raise RuntimeError(f"no program {'capturing' if capture_stdout else 'logging'} its "
                           "output is left to this guard")

    def close(self):
        """Let go of the programs never taken: the guard exits once the others have ended."""
        for program in self._free:
            program.close()
        self._free = []


class Program:
    """The worker's end of one program's guard: the write end of its control pipe
    (`lifeline`), its output pipes, and its report: `pid` (its program guard's),
    `returncode` and `facts` once it has ended (guard.facts)."""

    def __init__(self, capture, lifeline, report, stdout, stderr):
        self.capture = capture
        self.lifeline, self._report, self.stdout, self.stderr = lifeline, report, stdout, stderr
        self.pid = self.returncode = None
        self.facts = {}
        self._ended = gevent.event.Event()

    def follow(self):
        """Read its output and its reports from now on (its description written)."""
        for descriptor in (self.stdout, self.stderr):
            if descriptor is not None:
                gevent.os.make_nonblocking(descriptor)
        gevent.os.make_nonblocking(self._report)
        gevent.spawn(self._read_reports)

    def _read_reports(self):
        data = b""
        while True:
            try:
                chunk = gevent.os.nb_read(self._report, CHUNK)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
            messages, data = _messages(data)
            for message in messages:
                if self.pid is None and "pid" in message:
                    self.pid = message["pid"]
                if not self.facts and message.get("status") is not None:
                    self.facts = message
        # A program guard killed before its report leaves no wait status: the guard
        # reports its own then, or, were both killed, SIGKILL stands for it.
        status = self.facts.get("status")
        self.returncode = (-signal.SIGKILL if status is None
                           else os.waitstatus_to_exitcode(status))
        self._ended.set()

    def poll(self):
        return self.returncode

    def wait(self, timeout=None):
        """True once the program has ended and its guard has said how, false if `timeout`
        passed first."""
        return self._ended.wait(timeout)

    def let_go(self):
        """Close the lifeline: the guard kills the program and all it started."""
        if self.lifeline is not None:
            os.close(self.lifeline)
            self.lifeline = None

    def close(self):
        """Close the lifeline and the read ends of the output and report pipes."""
        self.let_go()
        for descriptor in (self.stdout, self.stderr, self._report):
            if descriptor is not None:
                os.close(descriptor)
        self.stdout = self.stderr = self._report = None


def _messages(data):
    """The whole messages at the start of `data`, read from a report pipe (each a length
    on 8 bytes, then a marshalled dict), and what is left of `data` after them."""
    messages = []
    while len(data) >= 8:
        size = int.from_bytes(data[:8], "little")
        if len(data) < 8 + size:
            break
        messages.append(marshal.loads(data[8:8 + size]))
        data = data[8 + size:]
    return messages, data


def _write_all(descriptor, data):
    """Write `data` to a pipe without blocking the event loop while the reader lags."""
    gevent.os.make_nonblocking(descriptor)
    while data:
        data = data[gevent.os.nb_write(descriptor, data):]


def _kill_user(uid):
    """Kill every process of sandbox user `uid` (which nothing else uses).

    Scans again until none is left: a process may fork while the scan runs.
    """
    for _ in range(100):
        found = user_processes(uid)
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)
    logger.error("sandbox: processes of user id %d survive SIGKILL", uid)


def user_processes(uid):
    """The PIDs of the live processes (not zombies) whose real or effective user id is `uid`."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as f:
                fields = dict(line.split(b":", 1) for line in f if b":" in line)
        except OSError:
            continue
        uids = fields.get(b"Uid", b"").split()[:2]
        if fields.get(b"State", b"").strip().startswith(b"Z") or len(uids) < 2:
            continue
        if uid in (int(uids[0]), int(uids[1])):
            pids.append(int(entry))
    return pids


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _base_env(home):
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
            "TMPDIR": "/tmp"}


def environment(home, extra, *, path_dirs=()):
    """The whole environment of a sandboxed program: nothing leaks from the worker's.

    PATH is the system's, then `path_dirs`."""
    env = _base_env(home)
    if path_dirs:
        env["PATH"] = os.pathsep.join([env["PATH"]] + list(path_dirs))
    env.update(extra)
    return env
