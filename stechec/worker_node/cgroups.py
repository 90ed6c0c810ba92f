"""Limits on a program's whole process tree, through the cgroups this host offers.

Rlimits hold per process: a champion forking 32 children of 1 GiB each uses
32 GiB. A control group holds the whole tree instead, whatever forks or
threads it makes. Two kinds are used, the first that works:

- cgroup v2 with a delegated subtree (systemd's `Delegate=yes`, as in
  share/systemd/worker-node.service): the worker moves itself into a leaf
  of its own cgroup (v2 lets processes live in leaves only) and makes one
  cgroup per program beside it, with `memory.max`, `memory.swap.max` and
  `pids.max`;
- cgroup v1's `memory` and `pids` controllers (and `cpuacct` for the tree's
  CPU time), where they are mounted and writable, as on the CI machines:
  one directory per program under `stechec-worker-<pid>` in the worker's own
  cgroup of each controller.

CPU time has no cgroup limit: the guard reads the group's usage while the
program runs and kills the tree past the limit (guard.py). What a host
lacks falls back to rlimits, per process; the worker says which in one line
at start (`describe`).
"""

import logging
import os
import signal

import gevent

logger = logging.getLogger(__name__)

PROC_MOUNTS = "/proc/self/mounts"
PROC_CGROUP = "/proc/self/cgroup"
V1_CONTROLLERS = ("memory", "pids", "cpuacct")
WORKER_PREFIX = "stechec-worker-"
# How long removing a program's group may wait for its last processes to leave it.
REMOVE_TRIES = 50


class TreeLimits:
    """How this host limits whole trees; `group(limits)` makes one program's group.

    `dirs` maps each usable controller ("memory", "pids", "cpu") to the directory
    under which program groups are made; `version` is 1 or 2, or None without any.
    """

    def __init__(self, version=None, dirs=None, why_not=""):
        self.version = version
        self.dirs = dirs or {}
        self.why_not = why_not
        self._count = 0

    @property
    def memory(self):
        return "memory" in self.dirs

    @property
    def processes(self):
        return "pids" in self.dirs

    @property
    def cpu(self):
        return "cpu" in self.dirs

    @property
    def mechanism(self):
        """What holds the whole-tree limits here, in words (tests say which they exercised)."""
        if self.version == 2:
            return "cgroup v2 (delegated subtree)"
        if self.version == 1:
            return "cgroup v1 (" + ", ".join(
                c for c in V1_CONTROLLERS if _v1_name(c) in self.dirs) + ")"
        return "none"

    def describe(self):
        """One line: which limits hold for whole trees, which fall back to rlimits."""
        whole = [name for name, held in (("memory (resident)", self.memory),
                                         ("processes", self.processes),
                                         ("CPU time", self.cpu)) if held]
        fallback = [name for name, held in (
            ("memory (address space, per process)", self.memory),
            ("processes (per sandbox user id as root, else per user)", self.processes),
            ("CPU time (per process)", self.cpu)) if not held]
        line = "sandbox: limits on a program's whole tree: "
        line += (", ".join(whole) + f" through {self.mechanism}") if whole else "none"
        if fallback:
            line += "; through rlimits instead: " + ", ".join(fallback)
            if self.why_not:
                line += f" ({self.why_not})"
        return line

    def group(self, limits, extra_processes=0):
        """A new ProgramGroup holding `limits` (a Limits: memory_bytes, processes, plus
        `extra_processes` of the sandbox's own), or None without cgroups."""
        if not self.dirs:
            return None
        self._count += 1
        name = f"run-{self._count}"
        made = {}
        try:
            # v2: one directory serves every controller.
            for parent in sorted(set(self.dirs.values())):
                os.mkdir(os.path.join(parent, name))
                made[parent] = os.path.join(parent, name)
            group = ProgramGroup(self.version, {controller: made[parent] for controller, parent
                                                in self.dirs.items()})
            group.set_limits(limits, extra_processes)
        except OSError:
            for path in made.values():
                _rmdir(path)
            raise
        return group

    def close(self):
        """Remove the worker's own directories (v1) when it stops; empty by then."""
        if self.version == 1:
            for parent in set(self.dirs.values()):
                _rmdir(parent)


class ProgramGroup:
    """One program's cgroup(s): the `procs` files its first process joins, the counters
    the guard reads (path, key in the file or None for a lone number, scale to the
    unit)."""

    def __init__(self, version, dirs):
        self.version = version
        self.dirs = dirs
        self.procs = sorted({os.path.join(d, "cgroup.procs") for d in dirs.values()})
        self.counters = {}
        if version == 2:
            base = dirs["memory"]
            self.counters = {"cpu_ns": (os.path.join(base, "cpu.stat"), "usage_usec", 1000),
                             "oom_kills": (os.path.join(base, "memory.events"), "oom_kill", 1),
                             "memory_full": (os.path.join(base, "memory.events"), "max", 1),
                             "pids_refused": (os.path.join(base, "pids.events"), "max", 1)}
            if os.path.exists(os.path.join(base, "memory.peak")):
                self.counters["memory_peak"] = (os.path.join(base, "memory.peak"), None, 1)
            return
        if "memory" in dirs:
            self.counters["oom_kills"] = (os.path.join(dirs["memory"], "memory.oom_control"),
                                          "oom_kill", 1)
            self.counters["memory_peak"] = (
                os.path.join(dirs["memory"], "memory.max_usage_in_bytes"), None, 1)
            self.counters["memory_full"] = (os.path.join(dirs["memory"], "memory.failcnt"),
                                            None, 1)
        if "pids" in dirs:
            self.counters["pids_refused"] = (os.path.join(dirs["pids"], "pids.events"), "max", 1)
        if "cpu" in dirs:
            self.counters["cpu_ns"] = (os.path.join(dirs["cpu"], "cpuacct.usage"), None, 1)

    def set_limits(self, limits, extra_processes):
        memory = str(limits.memory_bytes)
        processes = str(limits.processes + extra_processes)
        if self.version == 2:
            base = self.dirs["memory"]
            _write(os.path.join(base, "memory.max"), memory)
            if os.path.exists(os.path.join(base, "memory.swap.max")):
                _write(os.path.join(base, "memory.swap.max"), "0")
            _write(os.path.join(base, "pids.max"), processes)
            return
        if "memory" in self.dirs:
            _write(os.path.join(self.dirs["memory"], "memory.limit_in_bytes"), memory)
            swap = os.path.join(self.dirs["memory"], "memory.memsw.limit_in_bytes")
            if os.path.exists(swap):
                # Memory plus swap at the same bound: no swapping past the limit.
                _write(swap, memory)
        if "pids" in self.dirs:
            _write(os.path.join(self.dirs["pids"], "pids.max"), processes)

    def remove(self):
        """Kill what is left in the group (nothing, once the guard has done its work) and
        remove it; a process the kernel has not finished killing is waited for."""
        for path in sorted(set(self.dirs.values())):
            _empty_and_remove(path)


def detect(v2_mounts=None):
    """This host's TreeLimits: cgroup v2 delegated to this process, else cgroup v1's
    controllers where mounted and writable, else none (with why)."""
    mounts = _mounts()
    own = _own_cgroups()
    reasons = []
    for mount in (v2_mounts or [m for m, kind, _ in mounts if kind == "cgroup2"]):
        found = _delegated_v2(mount, own.get("", None))
        if isinstance(found, TreeLimits):
            return found
        reasons.append(found)
    dirs = {}
    for controller in V1_CONTROLLERS:
        mount = next((m for m, kind, options in mounts
                      if kind == "cgroup" and controller in options), None)
        if mount is None or controller not in own:
            reasons.append(f"no cgroup v1 {controller} controller")
            continue
        parent = os.path.join(mount, own[controller].lstrip("/"))
        _remove_stale(parent)
        path = os.path.join(parent, f"{WORKER_PREFIX}{os.getpid()}")
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as e:
            reasons.append(f"cgroup v1 {controller}: cannot create {path}: "
                           f"{e.strerror or e}")
            continue
        dirs[_v1_name(controller)] = path
    if dirs:
        return TreeLimits(1, dirs, "; ".join(reasons))
    return TreeLimits(None, {}, "; ".join(reasons) or "no cgroup mounted")


def _v1_name(controller):
    return "cpu" if controller == "cpuacct" else controller


def _delegated_v2(mount, own):
    """TreeLimits when the v2 cgroup of this process is delegated to it, else why not."""
    if own is None:
        return f"{mount}: this process's cgroup v2 is unknown"
    base = os.path.join(mount, own.lstrip("/"))
    try:
        with open(os.path.join(base, "cgroup.controllers")) as f:
            controllers = f.read().split()
    except OSError as e:
        return f"{mount}: {e.strerror or e}"
    missing = [c for c in ("memory", "pids") if c not in controllers]
    if missing:
        return f"cgroup v2 at {base} lacks the {' and '.join(missing)} controller(s)"
    leaf = os.path.join(base, f"{WORKER_PREFIX}{os.getpid()}")
    programs = os.path.join(base, "stechec-programs")
    try:
        # No process may stay where controllers are enabled for children.
        os.makedirs(leaf, exist_ok=True)
        _write(os.path.join(leaf, "cgroup.procs"), str(os.getpid()))
        _write(os.path.join(base, "cgroup.subtree_control"), "+memory +pids")
        os.makedirs(programs, exist_ok=True)
        _write(os.path.join(programs, "cgroup.subtree_control"), "+memory +pids")
    except OSError as e:
        return f"cgroup v2 at {base} is not delegated to this user ({e.strerror or e})"
    return TreeLimits(2, {"memory": programs, "pids": programs, "cpu": programs})


def _mounts():
    """[(mount point, filesystem type, set of options)] of the cgroup filesystems."""
    found = []
    with open(PROC_MOUNTS) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 4 and fields[2] in ("cgroup", "cgroup2"):
                found.append((fields[1], fields[2], set(fields[3].split(","))))
    return found


def _own_cgroups():
    """{controller: path} of this process ("" for cgroup v2)."""
    own = {}
    with open(PROC_CGROUP) as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(","):
                own[controller] = path
    return own


def _remove_stale(parent):
    """Remove the groups a worker that died without cleaning left under `parent`."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(WORKER_PREFIX):
            continue
        pid = name[len(WORKER_PREFIX):]
        if pid.isdigit() and (int(pid) == os.getpid() or os.path.exists(f"/proc/{pid}")):
            continue
        stale = os.path.join(parent, name)
        for entry in os.listdir(stale):
            if os.path.isdir(os.path.join(stale, entry)):
                _empty_and_remove(os.path.join(stale, entry))
        _rmdir(stale)


def _empty_and_remove(path):
    for _ in range(REMOVE_TRIES):
        for pid in _members(path):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if _rmdir(path):
            return
        gevent.sleep(0.02)
    logger.error("sandbox: cannot remove cgroup %s: processes survive SIGKILL", path)


def _members(path):
    try:
        with open(os.path.join(path, "cgroup.procs")) as f:
            return [int(pid) for pid in f.read().split()]
    except OSError:
        return []


def _write(path, value):
    with open(path, "w") as f:
        f.write(value)


def _rmdir(path):
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True
