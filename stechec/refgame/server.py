"""stechec2-refgame-server: referees one match of a reference game.

It listens on --rep_addr, waits (a bounded time) for --nb_clients clients to
say hello, plays the game turn by turn with them, and prints one YAML document
per player on stdout: its name, score and number of lost turns (late, missing
or illegal answers), and, for a player who went out of the game, the turn it
did. A player whose client never came loses every turn; the match always
ends.
"""

import json
import logging
import os
import re
import selectors
import sys
import time

from stechec.refgame import cli, games, transport
from stechec.refgame.games.base import RulesError

PROGRAM = "stechec2-refgame-server"
# On top of --time, for the client to relay an answer; past it the client
# itself is considered lost for the turn.
RELAY_GRACE_SECS = 2.0
DEFAULT_MAPS = os.path.join(os.path.dirname(__file__), "maps")

log = logging.getLogger("refgame.server")


class Seat:
    """One player: its client's connection while it has one, and its tally."""

    def __init__(self, index):
        self.index = index
        self.name = None
        self.stream = None
        self.nb_timeout = 0
        # The turn (counted from 1) at which its champion or its client went out of the game.
        self.out_at_turn = None

    def __str__(self):
        return f"player {self.index} ({self.name or 'never connected'})"

    def went_out(self, turn):
        """It went out of the game during `turn` (the game's, from 0), unless it had
        already."""
        if self.out_at_turn is None:
            self.out_at_turn = turn + 1


def parse_args(argv):
    parser = cli.parser(PROGRAM, "Referee one reference-game match.")
    parser.add_argument("--rep_addr", required=True, metavar="ADDR",
                        help="where clients connect: tcp://HOST:PORT or ipc:///PATH")
    parser.add_argument("--pub_addr", metavar="ADDR",
                        help="accepted for stechec2 compatibility; unused (one connection "
                             "per client carries everything)")
    parser.add_argument("--nb_clients", type=cli.positive_int, required=True,
                        help="the number of players")
    parser.add_argument("--dump", metavar="FILE", help="write the match, one state per turn, "
                                                       "as JSON")
    parser.add_argument("--replay", metavar="FILE", help="write every move as JSON")
    parser.add_argument("--connect_timeout", type=cli.positive_int, default=10, metavar="SECS",
                        help="how long to wait for the clients before playing without "
                             "the missing ones (default 10)")
    args = parser.parse_args(argv)
    try:
        transport.parse_address(args.rep_addr)
        args.game_class = games.game_class(args.rules)
    except (transport.AddressError, games.UnknownGame) as e:
        parser.error(str(e))
    return args


def read_map(args):
    if not args.game_class.uses_map:
        if args.map:
            log.warning("%s is not played on a map: ignoring --map %s",
                        args.game_class.name, args.map)
        return None
    path = args.map or os.path.join(DEFAULT_MAPS, f"{args.game_class.name}.map")
    with open(path, encoding="utf-8") as f:
        return f.read()


class Match:
    def __init__(self, game, nb_clients, time_secs, map_digest=None):
        self.game = game
        # The digest of the server's --map for a game played on it: every client needs
        # the same map, as stechec2's do.
        self.map_digest = map_digest
        self.seats = [Seat(i) for i in range(nb_clients)]
        self.time_secs = time_secs
        self.selector = selectors.DefaultSelector()
        self.moves = []

    def accept_clients(self, listener, timeout_secs):
        """Take hellos until every seat is filled or `timeout_secs` passed. Client id
        N (0 to nb_clients - 1, as stechec2 numbers players) takes seat N."""
        deadline = time.monotonic() + timeout_secs
        listener.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ)
        greeted = {}
        while len(greeted) < len(self.seats):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for key, _ in self.selector.select(remaining):
                if key.fileobj is listener:
                    self.accept(listener)
                else:
                    self.read_hello(key.fileobj, greeted)
        self.selector.unregister(listener)
        greeted_streams = {stream for _, stream in greeted.values() if stream is not None}
        for key in list(self.selector.get_map().values()):
            if key.fileobj not in greeted_streams:
                log.warning("a client connected but never said hello; closing it")
                self.selector.unregister(key.fileobj)
                key.fileobj.close()
        for seat in self.seats:
            if seat.index in greeted:
                seat.name, seat.stream = greeted[seat.index]
                log.info("%s is client %d", seat, seat.index)
            else:
                log.warning("%s: no client came within %d s; it loses every turn",
                            seat, timeout_secs)

    def accept(self, listener):
        try:
            sock, _ = listener.accept()
        except BlockingIOError:
            return
        # Answers are small: a send that blocks this long means the client is stuck.
        sock.settimeout(10)
        self.selector.register(transport.MessageStream(sock), selectors.EVENT_READ)

    def read_hello(self, stream, greeted):
        """Read what a client sent before the game: its hello, or its leaving."""
        came = next((client_id for client_id, (_, greeted_stream) in greeted.items()
                     if greeted_stream is stream), None)
        try:
            stream.fill()
            if came is None and (hello := stream.pop_message()) is not None:
                self.check_hello(hello, greeted, len(self.seats))
                greeted[hello["hello"]] = (hello["name"], stream)
                self.check_map(hello, stream, greeted)
        except (transport.ConnectionLost, ValueError) as e:
            self.selector.unregister(stream)
            stream.close()
            if came is None:
                log.warning("client refused: %s", e)
            else:
                log.warning("client %d left before the game (%s)", came, e)
                greeted[came] = (greeted[came][0], None)

    @staticmethod
    def check_hello(hello, greeted, nb_clients):
        client_id, name = hello.get("hello"), hello.get("name")
        if not isinstance(client_id, int) or not isinstance(name, str) or not name:
            raise ValueError(f"expected a hello with a client id and a name, got {hello!r}")
        if not 0 <= client_id < nb_clients:
            # stechec2's words.
            raise ValueError(f"Invalid player identifier {client_id} > {nb_clients - 1}")
        if client_id in greeted:
            raise ValueError(f"client id {client_id} is already taken by "
                             f"{greeted[client_id][0]!r}")

    def check_map(self, hello, stream, greeted):
        """A client without the server's map plays no turn: stechec2's client aborts
        without --map, and its player is counted as timing out."""
        if self.map_digest is None or hello.get("map") == self.map_digest:
            return
        client_id = hello["hello"]
        log.warning("client %d does not have the server's map (%s); it loses every turn",
                    client_id, "no --map" if hello.get("map") is None else "another --map")
        self.selector.unregister(stream)
        stream.close()
        greeted[client_id] = (hello["name"], None)

    def drop(self, seat, reason, turn):
        log.warning("%s: lost its client (%s); it loses its remaining turns", seat, reason)
        seat.went_out(turn)
        self.selector.unregister(seat.stream)
        seat.stream.close()
        seat.stream = None

    def play_turn(self):
        game = self.game
        turn = game.turn
        waiting = {}
        for index in game.players_to_play():
            seat = self.seats[index]
            if seat.stream is None:
                continue
            try:
                seat.stream.send({"turn": turn, "request": game.request(index)})
                waiting[seat.stream] = seat
            except transport.ConnectionLost as e:
                self.drop(seat, e, turn)
        answers = {}
        deadline = time.monotonic() + self.time_secs + RELAY_GRACE_SECS
        while waiting:
            remaining = deadline - time.monotonic()
            events = self.selector.select(remaining) if remaining > 0 else []
            if not events:
                for seat in waiting.values():
                    log.warning("%s: its client did not answer turn %d in time", seat, turn)
                break
            for key, _ in events:
                seat = waiting.get(key.fileobj) or self.seat_of(key.fileobj)
                try:
                    seat.stream.fill()
                    while (message := seat.stream.pop_message()) is not None:
                        if message.get("turn") == turn and seat.stream in waiting:
                            del waiting[seat.stream]
                            answers[seat.index] = message.get("move")
                            if message.get("lost") == "gone":
                                seat.went_out(turn)
                except transport.ConnectionLost as e:
                    waiting.pop(seat.stream, None)
                    self.drop(seat, e, turn)
        moves = {index: answers.get(index) for index in game.players_to_play()}
        illegal = game.play({i: m for i, m in moves.items() if isinstance(m, str)})
        for index, move in moves.items():
            if not isinstance(move, str) or index in illegal:
                self.seats[index].nb_timeout += 1
                log.info("turn %d: %s loses its move (%s)", turn, self.seats[index],
                         "illegal answer " + repr(move) if index in illegal else "no answer")
        log.debug("turn %d: %s", turn, moves)
        self.moves.append({"turn": turn, "moves": {str(i): m for i, m in moves.items()}})

    def seat_of(self, stream):
        return next(seat for seat in self.seats if seat.stream is stream)

    def play(self):
        while not self.game.is_over():
            self.play_turn()
        scores = self.game.scores()
        for seat in self.seats:
            if seat.stream is not None:
                try:
                    seat.stream.send({"end": True, "result": {"scores": scores}})
                except transport.ConnectionLost:
                    pass
                seat.stream.close()
        log.info("game over after %d turns: scores %s", self.game.turn, scores)
        return scores

    def names(self):
        return [seat.name for seat in self.seats]

    def replay(self, map_text):
        """Every answer of every turn, enough to play the match again."""
        return {"game": self.game.name, "players": self.names(), "map": map_text,
                "turns": self.moves}


def write_json(path, document):
    """Write `document` to `path` whole or not at all."""
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as f:
        json.dump(document, f, separators=(",", ":"))
    os.replace(partial, path)


def yaml_scalar(text):
    return text if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", text) else json.dumps(text)


def results(seats, scores):
    """One YAML document per player who came, as stechec2's server prints them, with
    `out_at_turn` (which stechec2's lacks) for a player who went out of the game."""
    return "".join(f"---\nplayer: {yaml_scalar(seat.name)}\nscore: {score}\n"
                   f"nb_timeout: {seat.nb_timeout}\n"
                   + ("" if seat.out_at_turn is None else f"out_at_turn: {seat.out_at_turn}\n")
                   for seat, score in zip(seats, scores, strict=True)
                   if seat.name is not None)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    cli.setup_logging(args.verbose)
    try:
        map_text = read_map(args)
        game = args.game_class(args.nb_clients, map_text)
        map_digest = cli.map_digest(args.map) if game.uses_map else None
    except OSError as e:
        log.error("cannot read the map: %s", e)
        return 1
    except UnicodeDecodeError:
        log.error("cannot read the map %s: it is not UTF-8 text", args.map)
        return 1
    except RulesError as e:
        log.error("%s", e)
        return 1
    try:
        listener = transport.listen(args.rep_addr)
    except OSError as e:
        log.error("cannot listen on %s: %s", args.rep_addr, e)
        return 1
    log.info("%s for %d players, listening on %s", game.name, args.nb_clients, args.rep_addr)
    match = Match(game, args.nb_clients, args.time / 1000, map_digest)
    try:
        match.accept_clients(listener, args.connect_timeout)
    finally:
        transport.close_listener(listener)
    scores = match.play()
    status = 0
    for path, document in ((args.dump, game.dump(match.names())),
                           (args.replay, match.replay(map_text))):
        if path:
            try:
                write_json(path, document)
            except OSError as e:
                log.error("cannot write %s: %s", path, e)
                status = 1
    # The results are printed even when a file could not be written: the
    # scores are right, the exit status tells the rest.
    sys.stdout.write(results(match.seats, scores))
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
