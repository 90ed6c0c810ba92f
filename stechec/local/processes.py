"""Start the cluster's programs as child processes, and stop every one of them.

Used by tools/run-local and by the end-to-end tests: each program runs in its
own process group with its output in a log file, is waited for until it
answers, and is stopped with SIGTERM, then SIGKILL for the whole group if it
lingers, so nothing is left running.
"""

import logging
import os
import signal
import subprocess
import time

logger = logging.getLogger(__name__)

# How long a program has to answer once started.
READY_SECS = 60


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
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, cwd=self.cwd, start_new_session=True)
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
        is ready; return the first."""
        self.launch(*services)
        for service in services:
            service.wait_ready(ready_timeout)
        return services[0]

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
