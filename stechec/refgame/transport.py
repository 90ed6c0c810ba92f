"""Addresses and the message stream between the game server and its clients.

An address is `tcp://HOST:PORT` (HOST `*` binds every interface) or
`ipc:///PATH` (a unix socket). Messages are JSON objects, one per line, over
one stream connection per client: no ZeroMQ, only the standard library.
"""

import json
import os
import selectors
import socket
import stat
import time

MAX_MESSAGE_BYTES = 1 << 20


class AddressError(ValueError):
    pass


class ConnectionLost(Exception):
    """The peer closed the connection or sent something that is not a message."""


def parse_address(address):
    """`(family, sockaddr)` for a `tcp://` or `ipc://` address; AddressError otherwise."""
    if address.startswith("ipc://"):
        path = address[len("ipc://"):]
        if not path:
            raise AddressError(f"{address!r}: an ipc:// address needs a path")
        return socket.AF_UNIX, path
    if address.startswith("tcp://"):
        host, sep, port = address[len("tcp://"):].rpartition(":")
        if not sep or not port.isdigit() or int(port) > 65535:
            raise AddressError(f"{address!r}: expected tcp://HOST:PORT")
        host = host.strip("[]")
        if host in ("*", ""):
            host = ""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return family, (host, int(port))
    raise AddressError(f"{address!r}: expected tcp://HOST:PORT or ipc:///PATH")


def listen(address):
    """A listening socket bound to `address` (a stale unix socket file is replaced)."""
    family, sockaddr = parse_address(address)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if family == socket.AF_UNIX:
            try:
                if stat.S_ISSOCK(os.lstat(sockaddr).st_mode):
                    os.unlink(sockaddr)
            except FileNotFoundError:
                pass
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        sock.listen(16)
    except OSError:
        sock.close()
        raise
    return sock


def close_listener(sock):
    """Close a listening socket, removing its unix socket file."""
    if sock.family == socket.AF_UNIX:
        try:
            os.unlink(sock.getsockname())
        except OSError:
            pass
    sock.close()


def connect(address, retry_secs, timeout_secs):
    """A socket connected to `address`, retrying while the server is not there yet."""
    family, sockaddr = parse_address(address)
    if family != socket.AF_UNIX and sockaddr[0] == "":
        sockaddr = ("localhost", sockaddr[1])
    deadline = time.monotonic() + retry_secs
    delay = 0.005
    while True:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout_secs)
        try:
            sock.connect(sockaddr)
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if time.monotonic() + delay > deadline:
                raise
        except OSError:
            sock.close()
            raise
        # Waiting for a server that is still starting: the only sleep, and only here.
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


class MessageStream:
    """JSON messages, one per line, over a connected socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            # Each turn is a small request and a small answer: never wait for
            # delayed acknowledgements.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def fileno(self):
        return self.sock.fileno()

    def send(self, message):
        data = json.dumps(message, separators=(",", ":")).encode() + b"\n"
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise ConnectionLost(str(e)) from e

    def pop_message(self):
        """The next complete message already received, or None."""
        line, sep, rest = self.buffer.partition(b"\n")
        if not sep:
            if len(self.buffer) > MAX_MESSAGE_BYTES:
                raise ConnectionLost("message too long")
            return None
        self.buffer = rest
        try:
            message = json.loads(line)
        except ValueError as e:
            raise ConnectionLost(f"not a JSON message: {line[:80]!r}") from e
        if not isinstance(message, dict):
            raise ConnectionLost(f"not a JSON object: {line[:80]!r}")
        return message

    def fill(self):
        """Read what the socket has (it is readable); ConnectionLost at its end."""
        try:
            data = self.sock.recv(65536)
        except OSError as e:
            raise ConnectionLost(str(e)) from e
        if not data:
            raise ConnectionLost("connection closed")
        self.buffer += data

    def receive(self, timeout_secs):
        """The next message, waiting at most `timeout_secs`; None when it did not come."""
        deadline = time.monotonic() + timeout_secs
        with selectors.DefaultSelector() as selector:
            selector.register(self.sock, selectors.EVENT_READ)
            while (message := self.pop_message()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    return None
                self.fill()
        return message

    def close(self):
        self.sock.close()
