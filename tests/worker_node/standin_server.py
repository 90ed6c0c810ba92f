#!/usr/bin/env python3
"""TEST STAND-IN for a stechec2 game server (not the reference game).

Honours the server's command-line contract (docs/architecture.md, "Games") so that the
worker's tests do not depend on a real game: it listens on the unix socket
of `--rep_addr ipc://PATH`, waits for `--nb_clients` clients (each sends its
name), then plays TURNS turns: each client is sent `play <turn>` and must
answer `<turn> <number>` within `--time` ms; the numbers add up to its score
and a missing answer counts in nb_timeout. It prints one YAML document per
player, writes `--dump` (JSON with the map) and `--replay`.

The map drives failures for the tests: a map saying `hang` makes it sleep
before opening its socket; once the clients are there, `crash` makes it
exit with status 3 and `forever` makes it sleep instead of playing.
"""

import argparse
import json
import os
import socket
import sys
import time

TURNS = 3


class Peer:
    def __init__(self, conn):
        self.conn = conn
        self.buffer = b""
        self.alive = True

    def send(self, line):
        try:
            self.conn.sendall(line.encode() + b"\n")
        except OSError:
            self.alive = False

    def read_line(self, deadline):
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.alive:
                return None
            self.conn.settimeout(remaining)
            try:
                data = self.conn.recv(4096)
            except TimeoutError:
                return None
            except OSError:
                data = b""
            if not data:
                self.alive = False
                return None
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode(errors="replace")

    def answer(self, turn, timeout):
        deadline = time.monotonic() + timeout
        while True:
            line = self.read_line(deadline)
            if line is None:
                return None
            number, _, value = line.partition(" ")
            if number == str(turn):
                return value


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--rules", "--map", "--rep_addr", "--pub_addr", "--dump", "--replay"):
        parser.add_argument(flag)
    parser.add_argument("--nb_clients", type=int, required=True)
    parser.add_argument("--time", type=int, default=1000)
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args()
    game_map = ""
    if args.map:
        with open(args.map) as f:
            game_map = f.read()
    if "hang" in game_map:
        time.sleep(3600)

    listener = socket.socket(socket.AF_UNIX)
    listener.bind(args.rep_addr.removeprefix("ipc://"))
    listener.listen()
    listener.settimeout(60)
    peers = {}
    while len(peers) < args.nb_clients:
        conn, _ = listener.accept()
        peer = Peer(conn)
        name, _, client_id = peer.read_line(time.monotonic() + 30).partition(" ")
        if not 0 <= int(client_id) < args.nb_clients:
            # As stechec2: refused, and the server waits on for a valid client.
            print(f"[\x1b[1;31mserver\x1b[0m] Invalid player identifier {client_id} > "
                  f"{args.nb_clients - 1} (server.cc:200)", file=sys.stderr, flush=True)
            conn.close()
            continue
        print(f"stand-in server: client {name} connected", file=sys.stderr, flush=True)
        peers[name] = peer
    if "crash" in game_map:
        print("stand-in server: crashing as the map asks", file=sys.stderr, flush=True)
        sys.exit(3)
    if "forever" in game_map:
        time.sleep(3600)
    if "cannot dump" in game_map and args.dump:
        # As a stechec2 game without dump_state(), given --dump.
        # (Its log line without the colour codes, which are item 5's concern.)
        print("[lib] dump_state() virtual function not implemented in the "
              "rules but the server was launched with the `--dump` option. (rules.hh:72)",
              file=sys.stderr, flush=True)
        os.abort()

    scores = {name: 0 for name in peers}
    timeouts = {name: 0 for name in peers}
    turns = []
    for turn in range(1, TURNS + 1):
        moves = {}
        for name, peer in peers.items():
            peer.send(f"play {turn}")
            value = peer.answer(turn, args.time / 1000)
            if value is None:
                timeouts[name] += 1
            elif value.strip().lstrip("-").isdigit():
                scores[name] += int(value)
            moves[name] = value
        turns.append(moves)
    for peer in peers.values():
        peer.send("end")

    if args.dump:
        with open(args.dump, "w") as f:
            json.dump({"map": game_map, "turns": turns}, f)
    if args.replay:
        with open(args.replay, "w") as f:
            f.write(f"stand-in replay: {len(turns)} turns\n")
    for name in peers:
        print(f"---\nplayer: {name}\nscore: {scores[name]}\nnb_timeout: {timeouts[name]}")


if __name__ == "__main__":
    main()
