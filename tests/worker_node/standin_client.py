#!/usr/bin/env python3
"""TEST STAND-IN for a stechec2 game client (not the reference game).

Honours the client's command-line contract (docs/architecture.md, "Games"): connects to
the stand-in server at `--req_addr ipc://PATH` as `--name`, runs the
champion `--champion` (a program), says its name and `--client_id`, and, for each `play <turn>` from the
server, writes `play` to the champion's stdin and relays the line it
answers. Checks that CHAMPION_PATH is the champion's directory (exit 4 if
not). The champion's stderr goes to this client's output, hence to the
player's log; when the champion dies, the client dies the same way, as a
stechec2 client does with the champion loaded in its own process.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time


def connect(path):
    deadline = time.monotonic() + 30
    while True:
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.connect(path)
            return sock
        except OSError:
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--name", "--rules", "--map", "--champion", "--req_addr", "--sub_addr"):
        parser.add_argument(flag)
    for flag in ("--client_id", "--time", "--verbose"):
        parser.add_argument(flag, type=int)
    args = parser.parse_args()
    if os.environ.get("CHAMPION_PATH") != os.path.dirname(args.champion):
        print(f"stand-in client: CHAMPION_PATH is {os.environ.get('CHAMPION_PATH')!r}",
              file=sys.stderr)
        sys.exit(4)

    server = connect(args.req_addr.removeprefix("ipc://"))
    from_server = server.makefile("r")
    server.sendall(f"{args.name} {args.client_id}\n".encode())
    print(f"stand-in client {args.client_id}: connected as {args.name}", flush=True)
    champion = subprocess.Popen([args.champion], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, bufsize=1)
    for line in from_server:
        command = line.split()
        if command[:1] == ["end"]:
            break
        try:
            champion.stdin.write("play\n")
            champion.stdin.flush()
        except BrokenPipeError:
            die_like(champion)
        answer = champion.stdout.readline()
        if not answer:
            die_like(champion)
        server.sendall(f"{command[1]} {answer.strip()}\n".encode())
    champion.kill()
    print("stand-in client: match over", flush=True)


def die_like(champion):
    """End as the champion did: in stechec2 it runs inside the client's process."""
    status = champion.wait()
    print(f"stand-in client: the champion stopped answering (status {status})", flush=True)
    if status < 0:
        if -status not in (signal.SIGKILL, signal.SIGSTOP):   # those cannot be caught
            signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    sys.exit(status or 1)


if __name__ == "__main__":
    main()
