"""Just enough HTTP/1.1 to carry signed XML-RPC: one POST with a Content-Length body per
exchange, on a kept-alive connection.

gevent's WSGI server and `http.client` cost more per call than the RPC
methods themselves (a WSGI environ per request, email-style header parsing
per response): at the master's rates that was a third of its time. The RPC
traffic needs none of their generality, so both ends speak this subset:
a request line or status line, headers of bounded size, and a body whose
length is given up front (no chunked encoding). Anything else is a
`BadMessage` naming what is wrong; the server answers it with the status the
exception carries and closes the connection.
"""

import socket

# Longest request line, status line or header line, and how many headers.
MAX_LINE_BYTES = 8192
MAX_HEADERS = 64


class BadMessage(Exception):
    """A message that is not the HTTP this module speaks; `status` is the server's answer."""

    def __init__(self, message, status="400 Bad Request"):
        super().__init__(message)
        self.status = status


def set_nodelay(sock):
    # Without it each call waits on delayed acknowledgements (about 40 ms).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def read_head(reader):
    """The start line and the headers (names lower-cased) of the next message on `reader`.

    None when the peer closed the connection cleanly before sending a byte of it.
    """
    line = reader.readline(MAX_LINE_BYTES + 1)
    if not line:
        return None
    start = _line(line, "start line")
    headers = {}
    for _ in range(MAX_HEADERS + 1):
        line = _line(reader.readline(MAX_LINE_BYTES + 1), "header")
        if not line:
            return start, headers
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise BadMessage(f"malformed header line {line[:80]!r}")
        headers[name.decode("latin-1").lower()] = value.strip().decode("latin-1")
    raise BadMessage(f"more than {MAX_HEADERS} headers", "431 Request Header Fields Too Large")


def _line(line, what):
    if len(line) > MAX_LINE_BYTES:
        raise BadMessage(f"{what} longer than {MAX_LINE_BYTES} bytes",
                         "431 Request Header Fields Too Large")
    if not line.endswith(b"\n"):
        raise ConnectionResetError(f"connection closed in the middle of a {what}")
    return line.rstrip(b"\r\n")


def content_length(headers, limit):
    """The body's length from `headers`; BadMessage when absent, malformed or over `limit`."""
    if "transfer-encoding" in headers:
        raise BadMessage("chunked bodies are not accepted; send Content-Length",
                         "411 Length Required")
    value = headers.get("content-length")
    if value is None:
        raise BadMessage("Content-Length required", "411 Length Required")
    if not value.isdigit():
        raise BadMessage(f"malformed Content-Length {value[:40]!r}")
    length = int(value)
    if length > limit:
        raise BadMessage(f"a {length}-byte body is over the limit of {limit} bytes",
                         "413 Payload Too Large")
    return length


def read_body(reader, length):
    body = reader.read(length)
    if len(body) != length:
        raise ConnectionResetError(f"connection closed after {len(body)} of {length} body bytes")
    return body


def keeps_alive(version, headers):
    """Whether the connection stays open after this message (HTTP/1.1 unless told to close)."""
    token = headers.get("connection", "").lower()
    if version == b"HTTP/1.1":
        return token != "close"
    return token == "keep-alive"


def message(start, headers, body):
    """A whole message: `start` line, (name, value) `headers`, Content-Length and `body`."""
    lines = [start] + [f"{name}: {value}" for name, value in headers]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
