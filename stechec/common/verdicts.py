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

A verdict is data in no language; describe, timeouts and usage put it into
words when it is shown, in the reader's language on the site and in English
elsewhere (stechec.common.i18n).
"""

import re
import signal

from stechec.common.i18n import gettext, gettext_noop, ngettext, number

# What each limit stopped, in words (gettext_noop: translated when shown, by describe).
LIMIT_PHRASES = {
    "memory": gettext_noop("stopped: used more than %(value)s of memory"),
    "cpu": gettext_noop("stopped: used more than %(value)s of CPU time"),
    "wall": gettext_noop("stopped: ran for longer than %(value)s (wall clock)"),
    "processes": gettext_noop("stopped: tried to run more than %(value)s processes and "
                              "threads at once"),
    "output": gettext_noop("stopped: printed more than %(value)s"),
    "file_size": gettext_noop("stopped: tried to write a file larger than %(value)s"),
    "disk": gettext_noop("stopped: wrote more than %(value)s in its directories"),
}
ENDINGS = ("exit", "signal", "limit", "after_server", "cancel")
# The signals a champion commonly dies of, in words (strsignal's are English only).
SIGNAL_WORDS = {
    "SIGSEGV": gettext_noop("segmentation fault"),
    "SIGABRT": gettext_noop("aborted"),
    "SIGFPE": gettext_noop("floating point exception"),
    "SIGILL": gettext_noop("illegal instruction"),
    "SIGBUS": gettext_noop("bus error"),
    "SIGTERM": gettext_noop("terminated"),
    "SIGPIPE": gettext_noop("broken pipe"),
    "SIGXCPU": gettext_noop("CPU time limit exceeded"),
    "SIGXFSZ": gettext_noop("file size limit exceeded"),
    "SIGSYS": gettext_noop("bad system call"),
    "SIGTRAP": gettext_noop("trace/breakpoint trap"),
}
# The units of human_bytes (gettext_noop: translated when shown, by shown_value).
BYTE_UNITS = (gettext_noop("bytes"), gettext_noop("KiB"), gettext_noop("MiB"),
              gettext_noop("GiB"))
# A limit's value as limit_value wrote it: "512 MiB", "1.5 s", "64".
_VALUE = re.compile(r"(\d+(?:\.\d+)?)(?: (bytes|KiB|MiB|GiB|s))?")


def human_bytes(n):
    """`n` bytes in English words ("512 MiB"); shown_value translates them."""
    for unit in BYTE_UNITS:
        if n < 1024 or unit == "GiB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.0f} {unit}"
        n /= 1024
    return f"{n} bytes"


def signal_words(name):
    """"segmentation fault (SIGSEGV)" for "SIGSEGV", in the reader's language for the
    common signals (SIGNAL_WORDS), else in strsignal's English."""
    if name in SIGNAL_WORDS:
        return f"{gettext(SIGNAL_WORDS[name])} ({name})"
    try:
        words = signal.strsignal(signal.Signals[name])
    except (KeyError, ValueError):
        return name
    return f"{words[0].lower()}{words[1:]} ({name})" if words else name


def shown_value(value):
    """A value written by limit_value or human_bytes ("512 MiB", "1.5 s"), in the reader's
    language ("512 Mio", "1,5 s"); anything else as it is."""
    match = _VALUE.fullmatch(value)
    if match is None:
        return value
    digits, unit = match.groups()
    decimals = len(digits.partition(".")[2])
    shown = number(float(digits), decimals) if decimals else digits
    if unit is None:
        return shown
    return f"{shown} {unit if unit == 's' else gettext(unit)}"


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
        limit = verdict.get("limit")
        value = shown_value(verdict.get("limit_value") or "")
        if limit not in LIMIT_PHRASES or not value:
            return gettext("stopped: passed its %(limit)s limit") % {"limit": limit}
        return gettext(LIMIT_PHRASES[limit]) % {"value": value}
    if ended == "signal":
        if verdict.get("signal") == "SIGKILL":
            return gettext("killed (SIGKILL) by the system")
        return gettext("crashed: %(signal)s") % {"signal": signal_words(verdict.get("signal", ""))}
    if ended == "after_server":
        return gettext("stopped: still running after the game had ended")
    if ended == "cancel":
        return gettext("cancelled")
    status = verdict.get("exit_status")
    if status == 0:
        return gettext("finished normally")
    return gettext("exited with status %(status)s") % {"status": status}


def failed(verdict):
    """Whether the program's end was its own failure: a crash, a limit, a non-zero exit
    (a client killed after the game had ended, or cancelled, did not fail)."""
    ended = verdict.get("ended")
    return ended in ("signal", "limit") or (ended == "exit" and verdict.get("exit_status") != 0)


def timeouts(nb_timeout, verdict):
    """A player's timeouts in words: "took longer than 1000 ms to answer 3 times", or
    without the per-turn limit when its verdict does not say it ("timed out 3 times")."""
    turn_ms = (verdict or {}).get("turn_ms")
    if turn_ms is None:
        return ngettext("timed out once", "timed out %(count)s times",
                        nb_timeout) % {"count": nb_timeout}
    return ngettext("took longer than %(ms)s ms to answer once",
                    "took longer than %(ms)s ms to answer %(count)s times",
                    nb_timeout) % {"ms": turn_ms, "count": nb_timeout}


def usage(verdict):
    """What the program used: "CPU 0.52 s, wall 3.10 s, peak memory 12 MiB"."""
    return gettext("CPU %(cpu)s s, wall %(wall)s s, peak memory %(memory)s") % {
        "cpu": number(verdict.get("cpu_ms", 0) / 1000, 2),
        "wall": number(verdict.get("wall_ms", 0) / 1000, 2),
        "memory": shown_value(human_bytes(verdict.get("peak_memory_kib", 0) * 1024))}


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
