"""Checks on an uploaded map beyond its size: text without control characters,
then the game's own validator when website.yml names one (contest.map_validator).

A map is given to the game's server and every client as a file; the engine's
contest games ship a program that says whether a map is one they can play.
"""

import logging
import subprocess
import tempfile
import unicodedata

from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# Control characters a text map may hold.
ALLOWED_CONTROLS = "\t\n\r"
# What the uploader reads of the validator's output: its end, where the reason usually is.
MESSAGE_MAX_CHARS = 2000


class MapRefused(Exception):
    """The map is refused; the message is for its uploader."""


def check_text(contents):
    """Refuse a control character (other than tab and line breaks), naming where it is."""
    for number, line in enumerate(contents.split("\n"), 1):
        for column, char in enumerate(line, 1):
            if unicodedata.category(char) == "Cc" and char not in ALLOWED_CONTROLS:
                raise MapRefused(
                    _("The map holds the control character %(char)s (line %(line)s, column "
                      "%(column)s); a map is text: only tabs and line breaks are allowed.")
                    % {"char": repr(char), "line": number, "column": column})


def run_validator(program, contents, timeout_secs):
    """Run `program` with the map's file as its argument; MapRefused with its output
    when it exits non-zero, cannot run or does not finish in `timeout_secs`."""
    with tempfile.TemporaryDirectory(prefix="stechec-map-") as directory:
        path = f"{directory}/map"
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(contents)
        try:
            done = subprocess.run([program, path], cwd=directory, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=timeout_secs)
        except subprocess.TimeoutExpired:
            raise MapRefused(_("The game's map validator did not finish within %(secs)s s; "
                               "the map is not accepted.")
                             % {"secs": f"{timeout_secs:g}"}) from None
        except OSError as e:
            logger.error("contest.map_validator %s cannot run: %s", program, e)
            raise MapRefused(_("The game's map validator cannot run, so the map cannot be "
                               "checked; the organisers can read why in the site's log.")) \
                from None
    if done.returncode == 0:
        return
    output = done.stdout.decode("utf-8", "replace").strip()
    if len(output) > MESSAGE_MAX_CHARS:
        output = "…" + output[-MESSAGE_MAX_CHARS:]
    why = (_("exit status %(status)s") % {"status": done.returncode} if done.returncode > 0
           else _("killed by signal %(signal)s") % {"signal": -done.returncode})
    if output:
        raise MapRefused(_("The game's map validator refused this map (%(why)s): %(output)s")
                         % {"why": why, "output": output})
    raise MapRefused(_("The game's map validator refused this map (%(why)s).") % {"why": why})
