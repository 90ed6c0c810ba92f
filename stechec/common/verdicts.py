"""Verdicts: how a program the worker ran ended, in words a player understands.

A worker sends one verdict per program (a compilation, the game server,
each player's client and the champion it runs) with its results; the master
stores them and the site shows them. A verdict is a dict of XML-RPC values:

- `ended`: "exit" (it exited; `exit_status`), "signal" (killed by `signal`,
  a name such as "SIGSEGV"), "limit" (stopped by `limit`: "memory", "cpu",
  "wall", "processes", "output", "file_size" or "disk", whose value was
  `limit_value`, in words: "1 GiB", "10 s"), "after_server" (killed because
  it was still running after the game server had finished) or "cancel";
- `cpu_ms`, `wall_ms`: the CPU time of its whole tree and its wall time;
- `peak_memory_kib`: its peak memory, from its cgroup when it had one
  (`memory_from` "cgroup"), else the largest resident size of one of its
  processes ("rusage");
- `turn_ms`, for a player's client only and optional (older workers leave it
  out): the time the game server gave it to answer each turn;
- `turn`, for a player's client only and optional: the turn (counted from 1)
  at which its champion went out of the game, when it failed and the game
  server said when (the bundled game's does; stechec2's does not).

Kibibytes and milliseconds: XML-RPC integers hold 32 bits.
"""

import signal

# What each limit stopped, as "stopped: <phrase>".
LIMIT_PHRASES = {
    "memory": "used more than {} of memory",
    "cpu": "used more than {} of CPU time",
    "wall": "ran for longer than {} (wall clock)",
    "processes": "tried to run more than {} processes and threads at once",
    "output": "printed more than {}",
    "file_size": "tried to write a file larger than {}",
    "disk": "wrote more than {} in its directories",
}
ENDINGS = ("exit", "signal", "limit", "after_server", "cancel")


def human_bytes(n):
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.0f} {unit}"
        n /= 1024
    return f"{n} bytes"


def signal_words(name):
    """"segmentation fault (SIGSEGV)" for "SIGSEGV"."""
    try:
        words = signal.strsignal(signal.Signals[name])
    except (KeyError, ValueError):
        return name
    return f"{words[0].lower()}{words[1:]} ({name})" if words else name


def describe(verdict):
    """How the program ended (ending), and when the verdict says at which turn, " at turn
    5" after it."""
    turn = verdict.get("turn")
    return ending(verdict) if turn is None else f"{ending(verdict)} at turn {turn}"


def ending(verdict):
    """How the program ended, in a player's words: "crashed: segmentation fault
    (SIGSEGV)", "stopped: used more than 1 GiB of memory", "exited with status 1"."""
    ended = verdict.get("ended")
    if ended == "limit":
        phrase = LIMIT_PHRASES.get(verdict.get("limit"), "passed its {} limit")
        return "stopped: " + phrase.format(verdict.get("limit_value") or "its")
    if ended == "signal":
        if verdict.get("signal") == "SIGKILL":
            return "killed (SIGKILL) by the system"
        return "crashed: " + signal_words(verdict.get("signal", ""))
    if ended == "after_server":
        return "stopped: still running after the game had ended"
    if ended == "cancel":
        return "cancelled"
    status = verdict.get("exit_status")
    return "finished normally" if status == 0 else f"exited with status {status}"


def failed(verdict):
    """Whether the program's end was its own failure: a crash, a limit, a non-zero exit
    (a client killed after the game had ended, or cancelled, did not fail)."""
    ended = verdict.get("ended")
    return ended in ("signal", "limit") or (ended == "exit" and verdict.get("exit_status") != 0)


def timeouts(nb_timeout, verdict):
    """A player's timeouts in words: "took longer than 1000 ms to answer 3 times", or
    without the per-turn limit when its verdict does not say it ("timed out 3 times")."""
    times = "once" if nb_timeout == 1 else f"{nb_timeout} times"
    turn_ms = (verdict or {}).get("turn_ms")
    if turn_ms is None:
        return f"timed out {times}"
    return f"took longer than {turn_ms} ms to answer {times}"


def usage(verdict):
    """What the program used: "CPU 0.52 s, wall 3.10 s, peak memory 12 MiB"."""
    memory = human_bytes(verdict.get("peak_memory_kib", 0) * 1024)
    return (f"CPU {verdict.get('cpu_ms', 0) / 1000:.2f} s, "
            f"wall {verdict.get('wall_ms', 0) / 1000:.2f} s, peak memory {memory}")


# Each field of a verdict and the types it may hold.
FIELDS = {"ended": (str,), "exit_status": (int, type(None)), "signal": (str,),
          "limit": (str,), "limit_value": (str,), "cpu_ms": (int,), "wall_ms": (int,),
          "peak_memory_kib": (int,), "memory_from": (str,)}
# The optional integer fields of a player's verdict and their least value.
OPTIONAL_INTEGERS = {"turn_ms": -2**31, "turn": 1}


def integer_at_least(value, least):
    """Whether `value` is an integer (not a boolean) of at least `least`."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def problem(verdict):
    """What is wrong with a verdict received in a result, or None."""
    if not isinstance(verdict, dict):
        return "must be a struct"
    for key, types in FIELDS.items():
        value = verdict.get(key)
        if not isinstance(value, types) or isinstance(value, bool):
            return f"{key!r} must be " + " or ".join(
                "nil" if t is type(None) else {"str": "a string", "int": "an integer"}[t.__name__]
                for t in types)
    for key, least in OPTIONAL_INTEGERS.items():
        if not integer_at_least(verdict.get(key, least), least):
            return f"{key!r} must be " + ("a positive integer" if least > 0 else "an integer")
    if verdict["ended"] not in ENDINGS:
        return f"'ended' must be one of {', '.join(ENDINGS)}"
    if verdict["limit"] and verdict["limit"] not in LIMIT_PHRASES:
        return f"'limit' must be empty or one of {', '.join(LIMIT_PHRASES)}"
    return None
