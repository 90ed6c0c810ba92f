"""What the reference server and client share on their command lines."""

import argparse
import hashlib
import logging
import sys


def parser(program, description):
    # allow_abbrev=False: a misspelt or unknown flag is an error, never a guess.
    result = argparse.ArgumentParser(prog=program, description=description, allow_abbrev=False)
    result.add_argument("--rules", required=True,
                        help="the game: a name (tictactoe, goldrush) or a path whose "
                             "basename names it (libtictactoe.so)")
    result.add_argument("--map", help="the map file, for a game played on a map")
    result.add_argument("--time", type=positive_int, default=1000, metavar="MS",
                        help="time a champion has to answer each turn (default 1000)")
    result.add_argument("--verbose", type=int, default=1, metavar="V",
                        help="0: warnings only, 1: the match's course (default), "
                             "2 and more: every turn")
    return result


def map_digest(path):
    """The SHA-256 of the map file at `path` (None without one): client and server
    compare them, as stechec2's clients need the server's map too."""
    if path is None:
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not positive")
    return value


# stechec2's log lines: a tag coloured with ANSI escape sequences, the message, and
# where it was logged, e.g. "[\x1b[1;31mserver\x1b[0m] Invalid player identifier 2 > 1
# (server.cc:200)". The tag is the last part of the logger's name.
TAG_COLOURS = {"server": "1;31", "client": "1;34", "champion": "1;32"}
OTHER_TAG_COLOUR = "1;35"


class EngineFormatter(logging.Formatter):
    def format(self, record):
        tag = record.name.rsplit(".", 1)[-1]
        colour = TAG_COLOURS.get(tag, OTHER_TAG_COLOUR)
        return (f"[\x1b[{colour}m{tag}\x1b[0m] {record.getMessage()} "
                f"({record.filename}:{record.lineno})")


def setup_logging(verbose):
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(EngineFormatter())
    logging.basicConfig(level=level, handlers=[handler])
