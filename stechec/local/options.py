"""tools/run-local's command line, with the standard library alone.

tools/run-local runs this module with the system's python3 before it builds
the virtual environment (`python3 -m stechec.local.options ARGS...`), so that
`--help` and a wrong option answer at once on a fresh clone; it prints nothing
for good options. stechec.local's main then parses them again in the venv.
"""

import argparse
import os
import urllib.parse

from stechec.local.engine import EngineGame

MAX_PORT = 65535
# The games of the bundled reference runtime (stechec.refgame).
BUNDLED_GAMES = ("tictactoe", "goldrush")


def postgres_section(url):
    """The `sql` section for a postgresql:// URL (an argparse type)."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("postgres", "postgresql") or not parsed.path.strip("/"):
        raise argparse.ArgumentTypeError(
            f"takes postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE, not {url!r}")
    return {"engine": "postgresql", "host": parsed.hostname or "localhost",
            "port": parsed.port or 5432, "user": urllib.parse.unquote(parsed.username or ""),
            "password": urllib.parse.unquote(parsed.password or ""),
            "database": parsed.path.strip("/")}


def whole_number(minimum, maximum=None):
    """An argparse type: an integer from `minimum` to `maximum` (if given)."""
    def number(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"takes a whole number, not {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
            raise argparse.ArgumentTypeError(f"takes {bounds}, not {value}")
        return value
    return number


def parser():
    parser = argparse.ArgumentParser(
        prog="run-local", description="Set up and run the whole Stechec2 cluster on this "
        "machine: website, master node and worker nodes, with the bundled reference game "
        "or a game of the upstream engine (--engine). Ctrl-C (or SIGTERM) stops everything "
        "it started; if it is killed outright, its programs stop with it.")
    parser.add_argument("--var", default="var", help="where its state lives (default: ./var)")
    parser.add_argument("--postgres", metavar="URL", type=postgres_section,
                        help="use this PostgreSQL database instead of SQLite in --var")
    parser.add_argument("--engine", metavar="PREFIX",
                        help="run the game on the upstream stechec2 engine installed under "
                        "PREFIX by its own waf (./waf.py configure --prefix=PREFIX "
                        "--libdir=PREFIX/lib --with-games=GAME), not on the bundled one; "
                        "keep a --var of its own")
    parser.add_argument("--game", default="tictactoe",
                        help="the contest's game (tictactoe): with the bundled runtime, "
                        f"{' or '.join(BUNDLED_GAMES)}; with --engine, a game installed "
                        "under PREFIX")
    parser.add_argument("--dump", action=argparse.BooleanOptionalAction,
                        help="whether the game server writes a dump (match.dump); by "
                        "default yes, except for the engine's tictactoe, which cannot")
    port = whole_number(1, MAX_PORT)
    parser.add_argument("--port", type=port, default=8000, help="the website's port (8000)")
    parser.add_argument("--master-port", type=port, default=8067,
                        help="the master node's port (8067); the worker nodes take the "
                        "ports after it")
    parser.add_argument("--workers", type=whole_number(0), default=2,
                        help="how many worker nodes (2); with 0, the site and the master run "
                        "and champions wait for compilation")
    parser.add_argument("--slots", type=whole_number(1), default=os.cpu_count() * 2,
                        help="slots per worker (default: twice the cores)")
    parser.add_argument("--first-uid", type=whole_number(1000), default=62000,
                        help="where the search for the workers' sandbox user ids starts "
                        "(62000; as root, each worker gets the first range of --slots ids "
                        "that no other worker-node on this machine holds)")
    return parser


def parse(argv=None):
    arguments = parser()
    args = arguments.parse_args(argv)
    args.engine_game = None
    if args.engine is not None:
        args.engine_game = EngineGame(args.engine, args.game, args.dump)
        problem = args.engine_game.problem()
        if problem:
            arguments.error(f"argument --engine: {problem}")
    elif args.game not in BUNDLED_GAMES:
        arguments.error(f"argument --game: the bundled runtime plays "
                        f"{' or '.join(BUNDLED_GAMES)}, not {args.game!r} (--engine runs "
                        "another game)")
    if args.master_port + args.workers > MAX_PORT:
        arguments.error(f"--master-port {args.master_port} leaves no port for worker "
                        f"{MAX_PORT - args.master_port + 1} (each worker takes the next port)")
    return args


if __name__ == "__main__":
    parse()
