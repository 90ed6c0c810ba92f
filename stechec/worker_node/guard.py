"""The guard of sandboxed programs: `python -I -S guard.py C:R:O:E [C:R:O:E ...]`, run by
the worker once for a match (its server and clients) or a compilation.

A worker that is killed (SIGKILL, the OOM killer) cannot kill its programs,
and a parent-death signal is no substitute: it reaches only a direct child,
and only one that asked in time. Bubblewrap's child asks once it has built
the sandbox, so a worker killed while a sandbox was being built (a match's
first milliseconds) left that sandbox running for good, nothing watching
its clock. Hence a guard between the worker and each program:

- Each C:R:O:E names one program's descriptors: C, the read end of a pipe
  whose write end only the worker holds; R, the pipe of its reports to the
  worker; O and E, its standard output and error (the same when both go to
  its log). The worker writes the program's description on C when it starts
  it (argv, env, limits, uid, gid, cwd: a length on 8 bytes, then the
  marshalled dict, marshal since both ends are the same interpreter and it
  costs no import), then keeps C open for as long as the program may run;
  its end of the pipe closes when the worker kills the program or dies,
  however it dies, so the guard cannot miss it.
- The guard is started once (a Python start is most of what it costs) and
  forks a program guard for each description: a process of its own, in a
  session of its own, holding only that program's descriptors, which
  starts the program as its child, confined (directory, umask, rlimits,
  user id), and is the subreaper of all the program starts: whichever of
  them dies, its children come to that program guard, not to init nor to
  another program's. The match's programs are so kept apart as if each had
  a guard started for it alone.
- Where the worker gave a program a cgroup (stechec/worker_node/cgroups.py),
  it joins it before it is confined, and its guard reads the group's
  counters while it runs: past its CPU time (the whole tree's) or at the
  first process the kernel killed for memory, the guard stops the tree. It
  stops it too past `disk_bytes` in the directories it may write (measured
  every second: the file size rlimit bounds each file, not their number).
- When the program ends or its pipe closes, its guard kills every process
  left under it, bubblewrap's half-built sandbox included, reaps them all,
  writes its report on R (the program's wait status, the limit that stopped
  it, its CPU time and peak memory, from the cgroup where there is one, else
  from the kernel's resource usage of the reaped tree) and exits. A program
  guard that died before its report (killed by the system) is reported by
  the guard that forked it: its own wait status. The guard exits once every
  program it was given has ended or was never started (C closed without a
  description).

Stdlib only, and run isolated (-I -S): the program's environment does not
reach the guard's Python. It starts for every match and compilation, so it
imports little: no module written in Python.
"""

# posix, _signal and _ctypes are what os, signal and ctypes wrap: importing
# those (with collections.abc, enum, struct...) cost ~17 ms of CPU, more than
# the rest of the guard's start, for every program.
import _ctypes
import _signal
import gc
import marshal
import posix
import resource
import select
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
MAX_DESCRIPTORS = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
DEFAULT_PATH = "/bin:/usr/bin"
# Exit status when the program cannot be started, as a shell says.
CANNOT_RUN = 127
IGNORED_BY_PYTHON = (_signal.SIGPIPE, _signal.SIGXFSZ)
# How often the guard reads the counters of a program's cgroup, and how often it measures
# what the program holds in its writable directories.
WATCH_SECS = 0.2
DISK_WATCH_SECS = 1.0
# What a file or directory counts for at least: a million empty files fill a disk too.
MIN_ENTRY_BYTES = 4096


def read_spec(control):
    """The worker's description of the program, or None if the worker died first."""
    header = read_exactly(control, 8)
    message = header and read_exactly(control, int.from_bytes(header, "little"))
    return marshal.loads(message) if message else None


def read_exactly(control, size):
    data = b""
    while len(data) < size:
        chunk = posix.read(control, size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def confine(spec):
    """In the program's process, before exec: the directory, the umask, the rlimits, the user.

    Files and sockets the program makes are open to its group (the match's
    server and clients share one) and to nobody else.
    """
    group = spec["group"]
    for procs in group["procs"] if group else ():
        with open(procs, "wb") as f:
            f.write(b"%d" % posix.getpid())
    posix.chdir(spec["cwd"])
    posix.umask(0o007)
    limits = spec["limits"]
    cpu = limits["cpu_secs"]
    # SIGXCPU at the limit, SIGKILL one second later for a program that ignores it.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    if not (group and "oom_kills" in group["counters"]):
        # Without a memory cgroup, the address space is the only bound on memory.
        resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"],) * 2)
    if not (group and "pids_refused" in group["counters"]):
        # A pids cgroup holds the tree instead, and says when it refused a process.
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"],) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if spec["uid"] is not None:
        posix.setgroups([])
        posix.setgid(spec["gid"])
        posix.setuid(spec["uid"])


def start(spec):
    """In the forked child: become the program; never returns."""
    argv = spec["argv"]
    # Python ignores these at start-up, and an ignored signal stays ignored
    # across exec: a program writing past its file size limit or to a closed
    # pipe would get an error instead of the default death.
    for number in IGNORED_BY_PYTHON:
        _signal.signal(number, _signal.SIG_DFL)
    try:
        confine(spec)
        execvpe(argv[0], argv, spec["env"])
    except (OSError, ValueError) as e:   # ValueError: a limit above the worker's own
        why = getattr(e, "strerror", None) or e
        posix.write(2, f"cannot run {argv[0]}: {why}\n".encode(errors="replace"))
    posix._exit(CANNOT_RUN)


def execvpe(name, argv, env):
    """os.execvpe: `name` looked up in the program's PATH unless it holds a slash."""
    if "/" in name:
        posix.execve(name, argv, env)
    error = FileNotFoundError(2, "No such file or directory")
    for directory in env.get("PATH", DEFAULT_PATH).split(":"):
        try:
            posix.execve(f"{directory or '.'}/{name}", argv, env)
        except OSError as e:
            error = e
    raise error


def children():
    """The guard's children: the program, and the orphans it or its descendants left."""
    me = posix.getpid()
    found = []
    for entry in posix.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (command) state ppid ...": the command may hold spaces and parentheses.
        if int(stat.rsplit(b")", 1)[1].split()[1]) == me:
            found.append(int(entry))
    return found


def kill_all(program):
    """Kill and reap every process under the guard; the program's wait status.

    A killed process's children come to the guard before it can be reaped,
    so each round finds the next generation, down to none. /proc is read
    only while some are left: most programs leave none.
    """
    posix.kill(program, _signal.SIGKILL)   # already a zombie if it ended
    status = None
    while True:
        try:
            pid, wait_status = posix.waitpid(-1, posix.WNOHANG)
        except ChildProcessError:
            return status
        if pid == 0:
            for child in children():
                try:
                    posix.kill(child, _signal.SIGKILL)
                except ProcessLookupError:
                    pass
            pid, wait_status = posix.waitpid(-1, 0)
        if pid == program:
            status = wait_status


def wait_for_either(control, program, spec):
    """Until the program ends, the worker's end of `control` closes (no data comes) or a
    limit the guard watches is passed: the tree's CPU time and memory (its cgroup's
    counters), what it holds in its writable directories. The limit passed ("cpu",
    "memory", "disk") or None."""
    wakeup, wakeup_w = posix.pipe()
    posix.set_blocking(wakeup_w, False)
    _signal.set_wakeup_fd(wakeup_w)
    # Any SIGCHLD, an orphan's as well as the program's, wakes the select up.
    _signal.signal(_signal.SIGCHLD, lambda *_: None)
    counters = spec["group"]["counters"] if spec["group"] else {}
    disk_checked = time.monotonic()
    while not posix.waitid(posix.P_PID, program, posix.WEXITED | posix.WNOHANG | posix.WNOWAIT):
        ready, _, _ = select.select([control, wakeup], [], [], WATCH_SECS)
        if control in ready:
            return None
        if wakeup in ready:
            posix.read(wakeup, 4096)
        passed = limit_passed(counters, spec["limits"])
        if not passed and time.monotonic() - disk_checked >= DISK_WATCH_SECS:
            disk_checked = time.monotonic()
            if disk_usage(spec["writable"], spec["limits"]["disk_bytes"]) > \
                    spec["limits"]["disk_bytes"]:
                passed = "disk"
        if passed:
            return passed
    return None


def disk_usage(directories, cap):
    """What `directories` hold, counted up to just past `cap` (no further: a hostile
    program's millions of files are not all walked)."""
    total = 0
    pending = list(directories)
    while pending and total <= cap:
        try:
            entries = posix.scandir(pending.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    stat = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                total += max(stat.st_blocks * 512, MIN_ENTRY_BYTES)
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                if total > cap:
                    break
    return total


def limit_passed(counters, limits):
    """The whole-tree limit the program's cgroup has passed, or None."""
    if read_counter(counters.get("oom_kills")):
        return "memory"
    if read_counter(counters.get("cpu_ns")) >= limits["cpu_secs"] * 10**9:
        return "cpu"
    return None


def read_counter(counter):
    """A cgroup counter: (path, key in a "key value" file or None for a lone number, scale);
    0 when it cannot be read."""
    if counter is None:
        return 0
    path, key, scale = counter
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError:
        return 0
    if key is None:
        return int(text.split()[0]) * scale
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == key.encode():
            return int(fields[1]) * scale
    return 0


def report(descriptor, message):
    """One message (`message`, a dict) to the worker on a program's report pipe: its
    length on 8 bytes, then the marshalled dict."""
    data = marshal.dumps(message)
    try:
        posix.write(descriptor, len(data).to_bytes(8, "little") + data)
    except OSError:
        pass   # the worker is gone


def facts(spec, stopped_by, status):
    """What the worker needs of an ended program: its wait status, the limit the guard
    stopped it for, the CPU time and peak memory of its tree, how many processes the
    cgroup refused, how many the kernel killed for memory, and how often the group's
    memory was full."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    counters = spec["group"]["counters"] if spec["group"] else {}
    return {"status": status,
            "stopped_by": stopped_by,
            "cpu_ns": (read_counter(counters["cpu_ns"]) if "cpu_ns" in counters
                       else int((usage.ru_utime + usage.ru_stime) * 10**9)),
            "peak_memory_bytes": (read_counter(counters["memory_peak"])
                                  if "memory_peak" in counters else usage.ru_maxrss * 1024),
            "memory_from": "cgroup" if "memory_peak" in counters else "rusage",
            "oom_kills": read_counter(counters.get("oom_kills")),
            "memory_full": read_counter(counters.get("memory_full")),
            "pids_refused": read_counter(counters.get("pids_refused"))}


def close_all_but(keep):
    """Close every descriptor from 3 up but those in `keep`."""
    low = 3
    for descriptor in sorted(keep):
        posix.closerange(low, descriptor)
        low = descriptor + 1
    posix.closerange(low, MAX_DESCRIPTORS)


def guard_program(slot, spec):
    """In a process forked for one program: guard it until it ends or the worker lets go
    of it, kill what it left, report; never returns.

    A session of its own (the worker kills it as a group if the guard itself was
    killed), the program's output pipes as its standard output and error until the
    program is forked, none of the other programs' descriptors.
    """
    control, report_to, out, err = slot
    _signal.set_wakeup_fd(-1)   # the match guard's, closed below
    posix.setsid()
    posix.dup2(out, 1)
    posix.dup2(err, 2)
    close_all_but({control, report_to})
    report(report_to, {"pid": posix.getpid()})
    prctl = _ctypes.dlsym(_ctypes.dlopen(None), "prctl")
    if _ctypes.call_function(prctl, (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) != 0:
        posix.write(2, b"guard: cannot become a subreaper\n")
        report(report_to, {"status": CANNOT_RUN << 8})
        posix._exit(0)
    program = posix.fork()
    if program == 0:
        posix.close(control)
        posix.close(report_to)
        start(spec)
    stopped_by = status = None
    try:
        # The output pipes are the program's alone: the guard has nothing to
        # say, and must not keep them open, nor block on one the worker
        # stopped reading.
        quiet = posix.open("/dev/null", posix.O_RDWR)
        for descriptor in (0, 1, 2):
            posix.dup2(quiet, descriptor)
        posix.close(quiet)
        stopped_by = wait_for_either(control, program, spec)
    finally:
        # The program ended, or the worker let go of it: either way, and even
        # if the guard itself failed, nothing the program started lives on.
        status = kill_all(program)
        report(report_to, facts(spec, stopped_by, status))
        posix._exit(0)


def main():
    # A collection in a forked program guard, or in its program before exec, would
    # write to every page holding an object: copies of them all, for nothing (the
    # guard makes no cycles worth collecting).
    gc.disable()
    # C:R:O:E for each program: its control pipe, its report pipe, its standard output
    # and error (the same descriptor when both go to its log).
    slots = [tuple(int(n) for n in arg.split(":")) for arg in sys.argv[1:]]
    # The worker spawns the guard without closing its descriptors (posix_spawn):
    # the programs get their own pipes and nothing else of the worker's.
    close_all_but({descriptor for slot in slots for descriptor in slot})
    # Unconfined, a guard's own core dump would land in a program's directory.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    wakeup, wakeup_w = posix.pipe()
    posix.set_blocking(wakeup_w, False)
    _signal.set_wakeup_fd(wakeup_w)
    _signal.signal(_signal.SIGCHLD, lambda *_: None)
    waiting = {slot[0]: slot for slot in slots}   # by control pipe: no program yet
    guarding = {}                                  # by pid: the program guards
    while waiting or guarding:
        ready, _, _ = select.select([*waiting, wakeup], [], [])
        for control in ready:
            if control == wakeup:
                posix.read(wakeup, 4096)
                continue
            slot = waiting.pop(control)
            spec = read_spec(control)
            if spec is not None:
                pid = posix.fork()
                if pid == 0:
                    guard_program(slot, spec)
                guarding[pid] = slot
            # The program guard holds the pipes now, or there is no program.
            for descriptor in {control, slot[2], slot[3]}:
                posix.close(descriptor)
            if spec is None:
                posix.close(slot[1])
        reap(guarding)


def reap(guarding):
    """Reap the program guards that ended; for one that died before its report (killed
    by the system), tell the worker how it died."""
    while guarding:
        pid, status = posix.waitpid(-1, posix.WNOHANG)
        if pid == 0:
            return
        report_to = guarding.pop(pid)[1]
        if status != 0:
            report(report_to, {"pid": pid, "status": status})
        posix.close(report_to)


if __name__ == "__main__":
    main()
