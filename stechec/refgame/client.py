"""stechec2-refgame-client: runs one champion and plays its turns for it.

It connects to the server (retrying while the server starts), starts the
champion program, and relays: each request from the server goes to the
champion as one line, and the champion's answer line goes back, or a
timeout after --time ms. A champion that crashed or left has its remaining
turns answered at once as lost, so the match goes on without it.
"""

import logging
import os
import signal
import sys

from stechec.refgame import cli, games, transport
from stechec.refgame.champion import Champion

PROGRAM = "stechec2-refgame-client"
CONNECT_RETRY_SECS = 10
# How long the champion has to leave after its input is closed at the end.
EXIT_GRACE_SECS = 1.0

log = logging.getLogger("refgame.client")


def parse_args(argv):
    parser = cli.parser(PROGRAM, "Run one champion in a reference-game match.")
    parser.add_argument("--name", required=True, help="the player's name in the server's results")
    parser.add_argument("--champion", required=True,
                        help="the champion: an executable speaking the line protocol, or "
                             "the directory holding it as `champion`")
    parser.add_argument("--req_addr", required=True, metavar="ADDR",
                        help="the server's address (tcp://HOST:PORT or ipc:///PATH)")
    parser.add_argument("--sub_addr", metavar="ADDR",
                        help="accepted for stechec2 compatibility; unused (one connection "
                             "carries everything)")
    parser.add_argument("--client_id", type=int, required=True,
                        help="this client's seat, 0 to the number of players - 1")
    args = parser.parse_args(argv)
    try:
        games.game_class(args.rules)
        transport.parse_address(args.req_addr)
    except games.UnknownGame as e:
        parser.error(str(e))
    except transport.AddressError as e:
        parser.error(f"--req_addr: {e}")
    return args


def play(args, server, champion):
    """Answer the server's requests until it says the game is over."""
    time_secs = args.time / 1000
    # The server waits for the slowest player of each turn; an idle server
    # for this long is gone.
    idle_secs = 60 + 20 * time_secs
    while True:
        message = server.receive(idle_secs)
        if message is None:
            log.error("no word from the server for %d s; giving up", idle_secs)
            return 1
        if message.get("end"):
            log.info("game over: %s", message.get("result", "no result"))
            return 0
        turn, request = message.get("turn"), message.get("request")
        if not isinstance(request, str):
            raise transport.ConnectionLost(f"unexpected message from the server: {message!r}")
        answer = champion.ask(request, time_secs)
        if answer is not None:
            server.send({"turn": turn, "move": answer})
        else:
            server.send({"turn": turn, "lost": "timeout" if champion.alive else "gone"})
        log.debug("turn %s: %r -> %r", turn, request, answer)


def main(argv=None):
    """The client's exit status: the match's (0 when it was played), or, when the game was
    played and its champion crashed or failed during it, as the champion ended, as a
    stechec2 client with the champion in its own process would: the worker then tells
    the player how its champion ended."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    cli.setup_logging(args.verbose)
    executable = os.path.abspath(args.champion)
    if os.path.isdir(executable):
        executable = os.path.join(executable, "champion")
    directory = os.environ.get("CHAMPION_PATH") or os.path.dirname(executable)
    # Started first so that its start-up overlaps the wait for the other players.
    try:
        map_digest = cli.map_digest(args.map)
    except OSError as e:
        log.error("cannot read the map: %s", e)
        return 1
    champion = Champion(executable, directory)
    try:
        code = connect_and_play(args, champion, map_digest)
    finally:
        status = champion.stop(EXIT_GRACE_SECS)
        if status is not None:
            log.info("champion exit status %d", status)
    if code == 0 and champion.ended_status:
        if champion.ended_status < 0:
            signum = -champion.ended_status
            if signum not in (signal.SIGKILL, signal.SIGSTOP):   # those cannot be caught
                signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        return champion.ended_status
    return code


def connect_and_play(args, champion, map_digest):
    try:
        sock = transport.connect(args.req_addr, CONNECT_RETRY_SECS, timeout_secs=10)
    except OSError as e:
        log.error("cannot connect to the server at %s: %s", args.req_addr, e)
        return 1
    server = transport.MessageStream(sock)
    try:
        server.send({"hello": args.client_id, "name": args.name, "map": map_digest})
        return play(args, server, champion)
    except transport.ConnectionLost as e:
        log.error("lost the server: %s", e)
        return 1
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main())
