"""Reading a match's dump (dump.json.gz) for the replay view.

Workers write it; the site only reads it and must survive anything there:
missing, truncated, not gzip, not JSON, a huge decompressed size, or a game
this site has no viewer for.
"""

import gzip
import json
import zlib

# A tictactoe dump is a few KiB; a dump larger than this is not shown in the page.
MAX_DUMP_BYTES = 16 * 1024 * 1024


class DumpUnreadable(Exception):
    """The dump cannot be shown; the message is for the page."""


def load_dump(path):
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read(MAX_DUMP_BYTES + 1)
    except FileNotFoundError:
        raise DumpUnreadable("This match has no dump.") from None
    except (OSError, EOFError, zlib.error) as e:
        raise DumpUnreadable(f"The dump cannot be read ({e}).") from None
    if len(raw) > MAX_DUMP_BYTES:
        raise DumpUnreadable("The dump is too large to show here; download it instead.")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise DumpUnreadable("The dump is not valid JSON.") from None


def tictactoe_states(dump):
    """The dump's states if it is a well-formed tictactoe dump, else None."""
    if not isinstance(dump, dict) or dump.get("game") != "tictactoe":
        return None
    states = dump.get("states")
    if not isinstance(states, list) or not states:
        return None
    for state in states:
        board = state.get("board") if isinstance(state, dict) else None
        if not (isinstance(board, list) and len(board) == 3
                and all(isinstance(row, list) and len(row) == 3 for row in board)):
            return None
    return states
