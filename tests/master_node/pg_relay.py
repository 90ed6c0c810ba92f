"""A real TCP relay between the master and PostgreSQL, for a failure the server alone
cannot be made to produce at will: a commit that went through, its answer lost.

It passes every connection on to the server byte for byte. Once armed with
`lose_commit_answer(marker)`, the first transaction whose statements contain
`marker` has its COMMIT passed on; the server's answer, which says the commit
is done, is dropped and the client's connection closed, as a network failing
at that moment would. Requests for SSL or GSS encryption are refused by the
relay itself, so that the session stays readable.
"""

import socket
import threading

# Startup codes of the encryption requests (PostgreSQL protocol, "Message Formats").
ENCRYPTION_REQUESTS = {80877103, 80877104}
# psycopg2 ends a transaction with a simple Query message.
COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"
# Bytes kept from the previous chunk, so that a marker split between two is seen.
OVERLAP = 256


class PostgresRelay:
    def __init__(self, host, port):
        self._server_address = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._marker = None
        self._lock = threading.Lock()
        self.answers_lost = 0
        # Every socket open, both sides: cut() closes them.
        self._open = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def lose_commit_answer(self, marker):
        self._marker = marker

    def close(self):
        # Shut down first: a close alone leaves the thread in accept() accepting.
        _close(self._listener)

    def cut(self):
        """The server gone, as for a network cut: no new connection, the open ones closed."""
        self.close()
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _close(sock)

    def _accept(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._open.add(client)
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client):
        server = None
        try:
            while True:
                head = _receive_exactly(client, 8)
                if head is None:
                    return
                length, code = int.from_bytes(head[:4], "big"), int.from_bytes(head[4:], "big")
                if length == 8 and code in ENCRYPTION_REQUESTS:
                    client.sendall(b"N")
                    continue
                break
            server = socket.create_connection(self._server_address, timeout=30)
            server.settimeout(None)
            with self._lock:
                self._open.add(server)
            server.sendall(head)
            losing = threading.Event()
            threading.Thread(target=self._pass_answers, args=(server, client, losing),
                             daemon=True).start()
            self._pass_requests(client, server, losing)
        finally:
            _close(client)
            if server is not None:
                _close(server)

    def _pass_requests(self, client, server, losing):
        targeted, previous = False, b""
        while True:
            try:
                chunk = client.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            window = previous + chunk
            with self._lock:
                if self._marker is not None and self._marker in window:
                    self._marker, targeted = None, True
            if targeted and COMMIT in window:
                targeted = False
                losing.set()
            previous = window[-OVERLAP:]
            try:
                server.sendall(chunk)
            except OSError:
                return

    def _pass_answers(self, server, client, losing):
        try:
            while True:
                chunk = server.recv(65536)
                if not chunk:
                    return
                if losing.is_set():
                    # The commit's answer: the server is done; the client never hears of it.
                    with self._lock:
                        self.answers_lost += 1
                    return
                client.sendall(chunk)
        except OSError:
            return
        finally:
            _close(client)
            _close(server)


def _receive_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _close(sock):
    """Close `sock`, waking the other thread blocked reading it (close alone would not)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
