"""Signed XML-RPC between the site, the master node and the worker nodes.

Every request carries two HTTP headers: a timestamp and an HMAC-SHA256, keyed
with the shared secret, over the timestamp and the exact request body. The
server answers HTTP 401 and runs nothing when either is missing or wrong, when
the timestamp is off by more than `MAX_SKEW_SECS`, or when the same signature
was already used (a replay). The secret itself never travels.

The server runs under gevent (one greenlet per connection, so one slow call
never holds up the others); the client works with or without gevent, so the
Django site can call the master too. Both speak the subset of HTTP/1.1 in
`httpwire` (POST, Content-Length, keep-alive), and set TCP_NODELAY: without
it every call waits on delayed acknowledgements (about 40 ms).

Client calls raise `xmlrpc.client.Fault` when the remote method refused the
call, `xmlrpc.client.ProtocolError` on an HTTP error (401 for a bad signature)
or an answer that is not XML-RPC (code 0),
and `OSError` (timeouts included) when the peer cannot be reached.
"""

import hmac
import inspect
import logging
import socket
import time
import urllib.parse
import xmlrpc.client

import gevent
import gevent.server

from stechec.common import httpwire, logtext, xmlrpc_codec

TIMESTAMP_HEADER = "X-Stechec-Timestamp"
SIGNATURE_HEADER = "X-Stechec-Signature"
MAX_SKEW_SECS = 60
# Big enough for a finished match of several players, each with a capped log
# tail; anything larger is refused before it is read.
MAX_BODY_BYTES = 8 * 1024 * 1024
# What a client reads of an answer (a status() of a large cluster included).
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
# A kept-alive connection idle this long is closed by the server; a request's
# headers and body must arrive within REQUEST_SECS of its first byte.
IDLE_SECS = 300
REQUEST_SECS = 60

# XML-RPC fault codes, as in the common "specification for fault code
# interoperability".
PARSE_ERROR = -32700
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
APPLICATION_ERROR = 1

logger = logging.getLogger(__name__)


class RPCError(Exception):
    """Raised by an RPC method to refuse a call with a message for the caller."""


def sign(secret, timestamp, body):
    return hmac.digest(secret.encode(), timestamp.encode() + b"\n" + body, "sha256").hex()


def signature_headers(secret, body):
    timestamp = f"{time.time():.6f}"
    return [(TIMESTAMP_HEADER, timestamp), (SIGNATURE_HEADER, sign(secret, timestamp, body))]


class _Connection:
    """One kept-alive connection to a peer, for one exchange at a time."""

    def __init__(self, host, port, timeout):
        self.socket = socket.create_connection((host, port), timeout=timeout)
        httpwire.set_nodelay(self.socket)
        self.reader = self.socket.makefile("rb")

    def exchange(self, request):
        """Send `request`; the answer's (status code, reason, body, whether to keep the
        connection)."""
        self.socket.sendall(request)
        head = httpwire.read_head(self.reader)
        if head is None:
            raise ConnectionResetError("connection closed by the peer before it answered")
        start, headers = head
        version, _, rest = start.partition(b" ")
        code, _, reason = rest.partition(b" ")
        if not version.startswith(b"HTTP/1.") or not code.isdigit():
            raise httpwire.BadMessage(f"malformed status line {start[:80]!r}")
        body = httpwire.read_body(self.reader,
                                  httpwire.content_length(headers, MAX_RESPONSE_BYTES))
        return (int(code), reason.decode("latin-1"), body,
                httpwire.keeps_alive(version, headers))

    def close(self):
        self.reader.close()
        self.socket.close()


class RPCClient:
    """Calls methods of one peer: `client.heartbeat(...)` or `client.call("heartbeat", ...)`.

    Safe to share between greenlets: each call borrows a connection from a
    small pool, so concurrent calls do not wait on each other and successive
    calls reuse open connections.
    """

    def __init__(self, url, secret, timeout=10.0):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"RPC URL {url!r}: expected http://host:port/")
        self.url = url
        self._address = parts.hostname, parts.port or 80
        self._request_start = f"POST {parts.path or '/'} HTTP/1.1"
        self._host_header = ("Host", parts.netloc)
        self._secret = secret
        self._timeout = timeout
        self._idle = []

    def __repr__(self):
        return f"RPCClient({self.url!r})"

    def call(self, method, *args):
        body = dumps(args, method)
        code, reason, answer = self._exchange(body)
        if code != 200:
            raise xmlrpc.client.ProtocolError(
                self.url, code, f"{reason}: {answer[:200].decode('utf-8', 'replace').strip()}",
                {})
        try:
            params, method = xmlrpc_codec.loads(answer)
            if method is not None or len(params) != 1:
                raise ValueError("not an answer of one value")
        except ValueError as e:
            raise xmlrpc.client.ProtocolError(self.url, 0, f"malformed answer: {e}", {}) \
                from None
        return params[0]

    def _exchange(self, body):
        while True:
            reused = bool(self._idle)
            connection = self._idle.pop() if reused else _Connection(*self._address,
                                                                      self._timeout)
            # Signed anew on each try: the peer refuses a signature it has seen.
            request = httpwire.message(
                self._request_start, [self._host_header, ("Content-Type", "text/xml")]
                + signature_headers(self._secret, body), body)
            try:
                code, reason, answer, keep = connection.exchange(request)
            except httpwire.BadMessage as e:
                connection.close()
                raise xmlrpc.client.ProtocolError(self.url, 0, str(e), {}) from None
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                connection.close()
                if reused:
                    # The peer closed it while it sat idle: try another.
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            if keep:
                self._idle.append(connection)
            else:
                connection.close()
            return code, reason, answer

    def close(self):
        while self._idle:
            self._idle.pop().close()

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args: self.call(name, *args)


def server_url(host, port):
    return f"http://{host}:{port}/"


class RPCServer:
    """A signed XML-RPC endpoint served by gevent.

    Methods are registered by name; a method's own checks raise `RPCError`
    with a message the caller sees as a fault. `serve(host, port)` returns the
    running gevent server.
    """

    def __init__(self, secret, name, *, max_body=MAX_BODY_BYTES, max_skew=MAX_SKEW_SECS):
        self._secret = secret
        self.name = name
        self._methods = {}
        self._max_body = max_body
        self._max_skew = max_skew
        self._seen = {}
        self._last_prune = 0.0
        self.server = None

    def register(self, function, name=None):
        self._methods[name or function.__name__] = (function, inspect.signature(function))

    def serve(self, host, port):
        self.server = gevent.server.StreamServer((host, port), self._serve_connection)
        self.server.start()
        return self.server

    @property
    def port(self):
        return self.server.server_port

    def stop(self):
        if self.server is not None:
            self.server.stop(timeout=1)

    def _serve_connection(self, sock, address):
        """One client's connection: its requests one after the other, until it closes it."""
        peer = f"{address[0]}:{address[1]}" if address else "?"
        httpwire.set_nodelay(sock)
        reader = sock.makefile("rb")
        try:
            while True:
                sock.settimeout(IDLE_SECS)
                if not reader.peek(1):
                    return
                status, body, keep = self._exchange(reader, peer)
                sock.settimeout(REQUEST_SECS)
                headers = [("Content-Type", "text/xml")] + ([] if keep else [("Connection",
                                                                                "close")])
                sock.sendall(httpwire.message(f"HTTP/1.1 {status}", headers, body))
                if not keep:
                    return
        except OSError as e:
            # Gone or too slow: nothing is owed to it.
            logger.debug("%s: connection from %s ended: %s", self.name, peer, e)
        finally:
            reader.close()
            sock.close()

    def _exchange(self, reader, peer):
        """Read one request from `reader` and answer it: (status, body, whether the
        connection can carry another request)."""
        try:
            with gevent.Timeout(REQUEST_SECS, TimeoutError(
                    f"request not received within {REQUEST_SECS} s")):
                head = httpwire.read_head(reader)
                if head is None:
                    raise ConnectionResetError("connection closed before a request")
                start, headers = head
                verb, version = _request_line(start)
                body = httpwire.read_body(reader, self._body_length(verb, headers))
        except httpwire.BadMessage as e:
            return (*self._refused(e, peer), False)
        status, answer = self._answer(headers, body, peer)
        return status, answer, httpwire.keeps_alive(version, headers)

    def _body_length(self, verb, headers):
        """The length of the request body to read; BadMessage when it must not be read."""
        if verb != b"POST":
            raise httpwire.BadMessage("XML-RPC takes POST only", "405 Method Not Allowed")
        return httpwire.content_length(headers, self._max_body)

    def _refused(self, error, peer):
        logger.warning("%s: refused a request from %s: %s", self.name, peer, error)
        return error.status, f"{error}\n".encode()

    def _answer(self, headers, body, peer):
        problem = self._check_signature(headers, body)
        if problem:
            logger.warning("%s: refused a request from %s: %s", self.name, peer, problem)
            return "401 Unauthorized", f"{problem}\n".encode()
        return "200 OK", self._dispatch(body, peer)

    def _check_signature(self, headers, body):
        timestamp = headers.get(TIMESTAMP_HEADER.lower())
        signature = headers.get(SIGNATURE_HEADER.lower())
        if not timestamp or not signature:
            return "unsigned request"
        try:
            skew = abs(time.time() - float(timestamp))
        except ValueError:
            return "malformed timestamp"
        if not skew <= self._max_skew:
            return f"stale timestamp ({skew:.0f} s off; are the clocks in sync?)"
        if not hmac.compare_digest(sign(self._secret, timestamp, body), signature):
            return "wrong signature (is the shared secret the same on both nodes?)"
        now = time.time()
        if signature in self._seen:
            return "replayed request"
        self._seen[signature] = now
        if now - self._last_prune > 1.0:
            horizon = now - 2 * self._max_skew
            self._seen = {s: t for s, t in self._seen.items() if t > horizon}
            self._last_prune = now
        return None

    def _dispatch(self, body, peer):
        try:
            params, method = xmlrpc_codec.loads(body)
            if method is None:
                raise ValueError("an answer, not a call")
        except ValueError as e:
            logger.warning("%s: malformed request from %s: %s", self.name, peer, e)
            return _fault(PARSE_ERROR, f"malformed XML-RPC request: {e}")
        if method not in self._methods:
            return _fault(METHOD_NOT_FOUND, f"no method {method!r}")
        function, signature = self._methods[method]
        try:
            signature.bind(*params)
        except TypeError as e:
            return _fault(INVALID_PARAMS, f"{method}: {e}")
        try:
            result = function(*params)
        except RPCError as e:
            logger.warning("%s: %s from %s refused: %s", self.name, method, peer, e)
            return _fault(APPLICATION_ERROR, str(e))
        except Exception as e:
            logger.exception("%s: %s from %s failed", self.name, method, peer)
            return _fault(INTERNAL_ERROR, f"{method}: internal error: {type(e).__name__}")
        try:
            return dumps((result,), methodresponse=True)
        except Exception as e:
            logger.exception("%s: %s returned a value XML-RPC cannot carry", self.name, method)
            return _fault(INTERNAL_ERROR, f"{method}: unmarshallable result: {e}")


def _request_line(line):
    """(method, HTTP version) of a request line."""
    parts = line.split(b" ")
    if len(parts) != 3 or parts[2] not in (b"HTTP/1.0", b"HTTP/1.1"):
        raise httpwire.BadMessage(f"malformed request line {line[:80]!r}")
    return parts[0], parts[2]


def _fault(code, message):
    return dumps(xmlrpc.client.Fault(code, message), methodresponse=True)


def dumps(params, method=None, *, methodresponse=False):
    """The XML-RPC body (UTF-8) of a call of `method` or an answer: the standard library's
    (`None` as `<nil/>`, bytes as base64), always well-formed.

    The standard library writes any character of a string as it is, and XML 1.0
    cannot carry most C0 controls, lone surrogates, U+FFFE or U+FFFF even as
    character references: a string holding one (a reason quoting what a
    program printed) would make a body every reader refuses. They are written
    as visible stand-ins instead (stechec.common.logtext.xml_safe); only
    strings can hold them, since the markup is ASCII. Bytes that must arrive
    as they are (logs) go as bytes, which are base64.
    """
    text = xmlrpc.client.dumps(params, method, methodresponse=methodresponse, allow_none=True)
    return logtext.xml_safe(text).encode("utf-8")


def require(condition, message):
    """Refuse an RPC call whose arguments are not what the method takes."""
    if not condition:
        raise RPCError(message)
