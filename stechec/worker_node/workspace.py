"""Private working directories, and programs run there for a task.

Every job works in a directory of its own under `paths.work_directory`,
given to the sandbox user and removed when the job ends. What a previous
run left there is removed when the worker starts: it belongs to tasks the
master has already put back in its queue.
"""

import collections
import contextlib
import functools
import logging
import os
import shutil
import sys
import tempfile

import gevent

import stechec
from stechec.worker_node import sandbox as sandboxing

logger = logging.getLogger(__name__)

# The directories jobs make under the work directory: "<prefix>-...".
WORK_PREFIXES = ("compile", "match", "probe")
# Compiled champions' archives kept decompressed in memory: a champion plays
# many matches on a worker, and decompressing its archive for each was the
# largest part of what a match cost the worker (the Rust sample's 2.5 MB of
# gzip hold 11 MB). At most ARCHIVES_BYTES in all, ARCHIVE_BYTES each.
ARCHIVES_BYTES = 128 * 2**20
ARCHIVE_BYTES = 32 * 2**20


class Workspace:
    def __init__(self, config, sandbox, hostname):
        self.config = config
        self.hostname = hostname
        self.sandbox = sandbox
        self.archives = ArchiveCache(ARCHIVES_BYTES)
        self.root = config["paths"]["work_directory"]
        paths = config["paths"]
        # What the game programs and the compile script need to see inside
        # bubblewrap besides the system directories: their own installation,
        # where it was named and where it really is, and the directories the
        # configured environment names (LD_LIBRARY_PATH=<prefix>/lib, say).
        programs = [paths[key] for key in ("stechec_server", "stechec_client", "compile_script")]
        self.program_dirs = [os.path.dirname(os.path.realpath(p)) for p in programs]
        self.extra_ro = list(dict.fromkeys(
            self.program_dirs + [os.path.dirname(os.path.abspath(p)) for p in programs]
            + [paths["player_env"], sys.prefix, sys.base_prefix,
               os.path.dirname(os.path.dirname(os.path.abspath(stechec.__file__)))]
            + ([paths["rules"]] if os.path.isabs(paths["rules"]) else [])
            + environment_paths(paths["env"])))

    def reset(self):
        """Remove what a previous run left in the work directory (its own entries only)."""
        os.makedirs(self.root, mode=0o711, exist_ok=True)
        os.chmod(self.root, 0o711)
        for name in os.listdir(self.root):
            if name.split("-", 1)[0] in WORK_PREFIXES:
                path = os.path.join(self.root, name)
                logger.info("removing %s, left by a previous run", path)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)

    @contextlib.contextmanager
    def private_dir(self, name):
        path = tempfile.mkdtemp(prefix=f"{name}-", dir=self.root)
        # Sandboxed programs (other user ids) go through it to their own directories.
        os.chmod(path, 0o711)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def environment(self, home, extra=None):
        """The environment of a program run for a task: the configured `paths.env`, then
        `extra`. PATH finds the system's programs first (a Python champion is built with
        the system's python3-config, not that of the Python the worker runs on, which
        the clients may not see), then the game's, then the worker's Python."""
        env = dict(self.config["paths"]["env"])
        env.update(extra or {})
        return sandboxing.environment(
            home, env, path_dirs=self.program_dirs + [os.path.dirname(sys.executable)])

    def start(self, task, argv, *, writable, cwd, limits, log_path, env, owned=(),
              readable=(), capture_stdout=False, guard=None):
        """Start a program for `task` (under `guard`, a sandbox.Guard, when it is one of
        several of the task's); `cancel` on the task kills it."""
        run = self.sandbox.start(argv, writable=writable, owned=owned, cwd=cwd, env=env,
                                 limits=limits, log_path=log_path,
                                 capture_stdout=capture_stdout, guard=guard,
                                 extra_ro=self.extra_ro + list(readable))
        task.track(run)
        return run

    def finish(self, task, run):
        outcome = run.wait()
        task.untrack(run)
        return outcome

    def run(self, task, argv, **kwargs):
        return self.finish(task, self.start(task, argv, **kwargs))


def environment_paths(env):
    """The absolute paths listed in the values of `env` (PATH-like lists included)."""
    return [entry for value in env.values() for entry in value.split(os.pathsep)
            if os.path.isabs(entry)]


class ArchiveCache:
    """Decompressed archives by key, the most recently used kept up to `max_bytes` in all.

    `get` may run in the thread pool (one lookup, atomic); `keep` runs on the
    hub only, so that the accounting of two calls never interleaves.
    """

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self._kept = collections.OrderedDict()
        self._bytes = 0

    def get(self, key):
        return self._kept.get(key)

    def keep(self, key, data):
        """Keep `data` (None: nothing to keep) as the most recently used."""
        if key in self._kept:
            self._kept.move_to_end(key)
            return
        if data is None or len(data) > self.max_bytes:
            return
        self._kept[key] = data
        self._bytes += len(data)
        while self._bytes > self.max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self._bytes -= len(dropped)


def off_hub(function, *args, **kwargs):
    """Run disk- and CPU-bound work (unpacking, packing, compressing) in gevent's thread
    pool, so that heartbeats and RPC calls go on meanwhile."""
    return gevent.get_hub().threadpool.apply(functools.partial(function, *args, **kwargs))
