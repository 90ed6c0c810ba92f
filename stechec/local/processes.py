"""Start the cluster's programs as child processes, and stop every one of them.

Used by tools/run-local and by the end-to-end tests: each program runs in its
own process group with its output in a log file, is waited for until it
answers, and is stopped with SIGTERM, then SIGKILL for the whole group if it
lingers, so nothing is left running. A supervisor that dies without stopping
them (SIGKILL, the OOM killer) takes them with it: each gets SIGTERM as a
parent-death signal, on which gunicorn stops its own workers and a worker
node its sandboxed programs (whose guards also watch the worker itself).
"""

import ctypes
import logging
import os
import signal
import subprocess
import threading
import time

logger = logging.getLogger(__name__)

# How long a program has to answer once started.
READY_SECS = 60

PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl


def _bound_to_this_process():
    """A preexec_fn: the child gets SIGTERM when this process dies, however it dies.

    The kernel sends the parent-death signal when the *thread* that forked
    the child ends, hence `Service.start` only from the main thread, which
    lives as long as the process. The child checks its parent afterwards: a
    parent that died before the prctl sends nothing.
    """
    parent = os.getpid()

    def bind():
        # In the forked child, before exec: a foreign function looked up
        # before the fork and two system calls, nothing that could wait on a
        # lock another thread of the parent held when it forked.
        if _prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
        if os.getppid() != parent:
            os._exit(1)
    return bind


class ProcessFailed(Exception):
    """A program exited or did not become ready; the message quotes its log's end."""


class Service:
    """One program of the cluster: its command, its log file, its readiness check."""

    def __init__(self, name, argv, log_path, *, ready=None, env=None, cwd=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.ready = ready
        self.env = env
        self.cwd = cwd
        self.process = None

    def start(self):
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError(f"{self.name}: start services from the main thread (their "
                               "parent-death signal comes when the starting thread ends)")
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, cwd=self.cwd, start_new_session=True,
                preexec_fn=_bound_to_this_process())
        finally:
            log.close()
        logger.info("%s: started (pid %d), log in %s", self.name, self.process.pid,
                    self.log_path)

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if not self.running:
                raise ProcessFailed(f"{self.name} exited with status "
                                    f"{self.process.returncode}:\n{self.log_tail()}")
            if self.ready is None or self.ready():
                return
            if time.monotonic() > deadline:
                raise ProcessFailed(f"{self.name} not ready after {timeout:.0f} s:\n"
                                    f"{self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self, lines=20):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def signal(self, signum):
        """Signal the whole process group (the program and any child it started)."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                pass

    def stop(self, timeout=10):
        if self.process is None:
            return
        if self.running:
            self.signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning("%s: still running %d s after SIGTERM; killing it", self.name,
                               timeout)
        # The group may outlive its leader (a child it started): kill what is left.
        self.signal(signal.SIGKILL)
        self.process.wait()
        logger.info("%s: stopped", self.name)


class Supervisor:
    """Owns the services it started and stops them all, last started first."""

    def __init__(self):
        self.services = []

    def launch(self, *services):
        """Start `services` without waiting for them (`Service.wait_ready` does)."""
        for service in services:
            self.services.append(service)
            service.start()

    def start(self, *services, ready_timeout=READY_SECS):
        """Start `services` at once, so that their start-ups overlap, and wait until each
        is ready."""
        self.launch(*services)
        for service in services:
            service.wait_ready(ready_timeout)

    def failed(self):
        """The services that exited on their own."""
        return [s for s in self.services if not s.running]

    def stop(self):
        for service in reversed(self.services):
            service.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
