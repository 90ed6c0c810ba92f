"""The platform's reasons: why a task failed or was retried, why a tournament waits.

Each reason the platform writes is built here from a named template, and
stored twice (transitions, tournaments): as its English text
(`failure_reason`, `waiting_reason`), which logs, the API, webhooks and
operators' grep read, and as a detail, {"code": name, "params": {...}}
(`failure_detail`, `waiting_detail`), which the site puts into words in the
reader's language (`shown`). A row written before details were stored has
none: its text is shown as it is.

The worker sends its reasons as English sentences (docs/rpc.md); those it
builds from its own wording (the game server failed, an archive cannot be
unpacked...) are recognised here (`recognise`) and stored with a detail
too, whatever the worker's version. What they quote stays verbatim: a
program's last line, an error's message, a worker's name. Any other
sentence has no detail and is shown as the worker wrote it.

Pure: no database, no Django but through stechec.common.i18n.
"""

import re

from stechec.common import verdicts
from stechec.common.i18n import gettext, gettext_noop

# Every template, by code: the English text, with %(name)s parameters.
TEMPLATES = {
    # Written by the contest core and the master node.
    "gave_up": gettext_noop("gave up after %(tries)s attempts; last: %(last)s"),
    "master_restarted": gettext_noop("master node restarted"),
    "lost_before_sent": gettext_noop("its worker was lost before it was sent"),
    "refused": gettext_noop("refused by worker %(worker)s: %(error)s"),
    "no_room": gettext_noop("refused by worker %(worker)s"),
    "unreachable": gettext_noop("worker %(worker)s unreachable: %(error)s"),
    "timed_out": gettext_noop("worker %(worker)s timed out"),
    "worker_restarted": gettext_noop("worker %(worker)s restarted"),
    "deadline": gettext_noop("no result before the deadline"),
    "cancelled": gettext_noop("cancelled by %(actor)s at %(time)s UTC"),
    # A tournament's next round waits (pairing, tournaments).
    "round_match_failed": gettext_noop("match %(match)s failed: rerun it before the next "
                                       "round"),
    "slot_match_failed": gettext_noop("match %(match)s between champions %(first)s and "
                                      "%(second)s failed: rerun it before the next round"),
    "slot_unfinished": gettext_noop("%(finished)s of %(wanted)s matches between champions "
                                    "%(first)s and %(second)s have finished"),
    # The worker's sentences (stechec/worker_node: compilation.py, matches.py, service.py).
    "sources_missing": gettext_noop("the sources are missing from the shared directory"),
    "worker_failed": gettext_noop("worker %(worker)s failed: %(error)s"),
    "cannot_unpack": gettext_noop("champion %(champion)s: cannot unpack its compiled archive "
                                  "(%(why)s)"),
    "no_socket": gettext_noop("the game server did not open its socket within %(secs)s s"),
    "no_dump": gettext_noop("the game server aborted because this game cannot write a dump "
                            "(--dump): set match.dump to false in the worker's "
                            "configuration"),
    "no_score": gettext_noop("the game server reported no score for player(s) "
                             "%(players)s"),
    "unreadable_output": gettext_noop("unreadable server output: %(error)s"),
    "unfinished": gettext_noop("the game did not finish: the game server was %(how)s"),
    "server_failed": gettext_noop("the game server %(how)s: %(excerpt)s"),
    "server_failed_silent": gettext_noop("the game server %(how)s"),
}

# The worker's templates `recognise` tries, in this order: the first that matches wins,
# so the more specific come first ("the game server %(how)s" matches every sentence
# about the game server).
RECOGNISED = ("sources_missing", "worker_failed", "cannot_unpack", "no_socket", "no_dump",
              "no_score", "unreadable_output", "unfinished", "server_failed",
              "server_failed_silent")
# The longest sentence `recognise` reads: the worker's own are far shorter (what they
# quote of a log is at most 300 characters), and a template of two parameters can cost
# the master time quadratic in a sentence that repeats its separators.
MAX_RECOGNISED = 4096
# How a program ended in the sandbox's words ("killed by signal SIGSEGV", "stopped: more
# processes than its limit (5)"): before the colon that starts what it printed.
_HOW = r"(?:stopped: )?[^:]*?"
# The templates whose `how` the game server's verdict, when the result carries one, puts
# into the reader's words (stechec.common.verdicts) instead of the sandbox's English.
_VERDICT_SAYS_HOW = {"unfinished", "server_failed", "server_failed_silent"}
_PARAMETER = re.compile(r"%\((\w+)\)s")


def parameters(code):
    """The names of template `code`'s parameters."""
    return set(_PARAMETER.findall(TEMPLATES[code]))


def reason(code, **params):
    """The detail of reason `code` with its parameters (numbers, texts, or a nested
    detail); ValueError for an unknown code or parameters that are not the template's."""
    if code not in TEMPLATES:
        raise ValueError(f"no reason template {code!r}")
    if set(params) - {"verdict"} != parameters(code):
        raise ValueError(f"reason {code!r} takes {sorted(parameters(code))}, "
                         f"not {sorted(params)}")
    return {"code": code, "params": params}


def text(detail):
    """The detail in English: the text stored beside it."""
    return TEMPLATES[detail["code"]] % {
        name: text(value) if _is_detail(value) else value
        for name, value in detail["params"].items()}


def parts(given, verdict=None):
    """(English text, detail or None) of a reason `given` as a detail (the platform's) or
    as a sentence (a worker's, recognised when it can be, `verdict` the game server's)."""
    if isinstance(given, str):
        return given, recognise(given, verdict)
    return text(given), given


def gave_up(tries, last):
    """A task failed for good after `tries` counted attempts, the last for `last` (a
    detail, or a text that has none)."""
    return reason("gave_up", tries=tries, last=last)


def recognise(sentence, verdict=None):
    """The detail of a worker's `sentence` built from one of its templates, `verdict` (the
    game server's, or None) kept to put the program's end into words; None for any other
    sentence, and for one longer than MAX_RECOGNISED."""
    if len(sentence) > MAX_RECOGNISED:
        return None
    for code in RECOGNISED:
        match = _pattern(code).fullmatch(sentence)
        if match:
            params = match.groupdict()
            if verdict and code in _VERDICT_SAYS_HOW:
                params["verdict"] = verdict
            return {"code": code, "params": params}
    return None


def shown(stored_text, detail):
    """A stored reason in the reader's language: the detail's template translated with its
    parameters, or the stored text as it is when there is no detail (rows older than
    details, a worker's sentence not of its templates), not one this version reads (a
    code it does not know), or not the text's (staff edited the text in the admin)."""
    if not detail:
        return stored_text
    try:
        return _shown(detail) if text(detail) == stored_text else stored_text
    except (KeyError, TypeError, ValueError):
        return stored_text


def _shown(detail):
    params = dict(detail["params"])
    verdict = params.pop("verdict", None)
    if verdict:
        params["how"] = verdicts.describe(verdict)
    return gettext(TEMPLATES[detail["code"]]) % {
        name: _shown(value) if _is_detail(value) else value for name, value in params.items()}


def _is_detail(value):
    return isinstance(value, dict) and "code" in value


_patterns = {}


def _pattern(code):
    """The regular expression of template `code`'s English text, a group per parameter."""
    if code not in _patterns:
        pieces = re.split(r"(%\(\w+\)s)", TEMPLATES[code])
        _patterns[code] = re.compile("".join(
            f"(?P<{piece[2:-2]}>{_HOW if piece == '%(how)s' else '.*?'})"
            if _PARAMETER.fullmatch(piece) else re.escape(piece) for piece in pieces), re.S)
    return _patterns[code]
