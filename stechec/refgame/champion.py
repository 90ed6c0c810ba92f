"""The champion program, run by the client as a child process.

The client writes one line per request on the champion's stdin and reads one
line per answer from its stdout; the champion's stderr is the client's (the
worker keeps it in the player's log). Answers are matched to requests in
order, so a late answer is read and thrown away when it finally comes.

The champion stays in the client's process group, so whoever stops the
client's group (the worker, at its wall-clock limit) stops the champion and
everything it started. At the end of a match the client kills the champion,
and, when the client leads its own group (as the worker starts it), every
other process left in that group.
"""

import logging
import os
import select
import signal
import subprocess
import time

MAX_LINE_BYTES = 64 * 1024

log = logging.getLogger("refgame.champion")


class Champion:
    def __init__(self, path, directory):
        self.late_answers = 0
        self.buffer = b""
        self.process = None
        self.reason = None
        # Its exit status (negative: the signal) when it ended by itself during the game.
        self.ended_status = None
        env = dict(os.environ, CHAMPION_PATH=directory)
        try:
            self.process = subprocess.Popen([path], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, cwd=directory, env=env)
        except OSError as e:
            self.dead(f"cannot start {path}: {e.strerror}")
            return
        os.set_blocking(self.process.stdout.fileno(), False)
        # A champion that stops reading must not block the client either.
        os.set_blocking(self.process.stdin.fileno(), False)
        log.info("champion %s started, pid %d", path, self.process.pid)

    @property
    def alive(self):
        return self.reason is None

    def dead(self, reason):
        if self.reason is None:
            self.reason = reason
            log.warning("champion out of the game: %s; its remaining turns are lost", reason)

    def ask(self, request, timeout_secs):
        """The answer line to `request`, or None when it is late, missing or the
        champion is gone (then `alive` turns false)."""
        if not self.alive:
            return None
        deadline = time.monotonic() + timeout_secs
        if not self.write(request.encode() + b"\n", deadline):
            self.dead("it stopped reading its input")
            return None
        while True:
            line = self.read_line(deadline)
            if line is None:
                if self.alive:
                    self.late_answers += 1
                    log.warning("champion did not answer within %d ms",
                                round(timeout_secs * 1000))
                return None
            if self.late_answers:
                self.late_answers -= 1
                continue
            return line

    def write(self, data, deadline):
        """Whether all of `data` went to the champion's input before `deadline`."""
        fd = self.process.stdin.fileno()
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
                return False
            try:
                data = data[os.write(fd, data):]
            except BlockingIOError:
                continue
            except OSError:
                self.dead(self.exit_reason() or "it closed its input")
                return False
        return True

    def read_line(self, deadline):
        fd = self.process.stdout.fileno()
        while True:
            line, sep, rest = self.buffer.partition(b"\n")
            if sep:
                self.buffer = rest
                return line.decode(errors="replace").rstrip("\r")
            if len(self.buffer) > MAX_LINE_BYTES:
                self.buffer = b""
                return f"<answer longer than {MAX_LINE_BYTES} bytes>"
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return None
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not data:
                self.dead(self.exit_reason() or "it closed its output")
                return None
            self.buffer += data

    def exit_reason(self, wait_secs=0.05):
        try:
            status = self.process.wait(wait_secs)
        except subprocess.TimeoutExpired:
            return None
        self.ended_status = status
        if status < 0:
            return f"it was killed by signal {signal.Signals(-status).name}"
        return f"it exited with status {status}"

    def stop(self, grace_secs):
        """Close its input (end of game), give it `grace_secs` to leave, then kill
        it and what it left behind. Returns its exit status."""
        if self.process is None:
            return None
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(grace_secs)
        except subprocess.TimeoutExpired:
            log.warning("champion still running %.1f s after the end; killing it", grace_secs)
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        if os.getpgrp() == os.getpid():
            kill_rest_of_group()
        return self.process.returncode


def kill_rest_of_group(max_rounds=100):
    """SIGKILL every other process of this process's group (the champion's
    children), rounds after rounds while some are still forking."""
    me, group = os.getpid(), os.getpgrp()
    for _ in range(max_rounds):
        others = [pid for pid in group_members(group) if pid != me]
        if not others:
            return
        log.warning("killing %d process(es) the champion left behind", len(others))
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        # Let the kills land before looking again; bounded by max_rounds.
        time.sleep(0.01)


def group_members(group):
    """The live processes of process group `group`, read from /proc."""
    members = []
    if not os.path.isdir("/proc"):
        return members
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # After the command name, in parentheses: state, ppid, pgrp.
        state, _, pgrp = stat[stat.rindex(")") + 2:].split()[:3]
        if int(pgrp) == group and state not in "ZX":
            members.append(int(entry))
    return members
