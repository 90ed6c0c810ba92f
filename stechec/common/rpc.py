"""Signed XML-RPC between the site, the master node and the worker nodes.

Every request carries two HTTP headers: a timestamp and an HMAC-SHA256, keyed
with the shared secret, over the timestamp and the exact request body. The
server answers HTTP 401 and runs nothing when either is missing or wrong, when
the timestamp is off by more than `MAX_SKEW_SECS`, or when the same signature
was already used (a replay). The secret itself never travels.

The server runs under gevent (one greenlet per connection, so one slow call
never holds up the others); the client works with or without gevent, so the
Django site can call the master too. Both sides set TCP_NODELAY: without it
every call waits on delayed acknowledgements (about 40 ms).

Client calls raise `xmlrpc.client.Fault` when the remote method refused the
call, `xmlrpc.client.ProtocolError` on an HTTP error (401 for a bad signature),
and `OSError` (timeouts included) when the peer cannot be reached.
"""

import hashlib
import hmac
import http.client
import inspect
import logging
import socket
import time
import xmlrpc.client

TIMESTAMP_HEADER = "X-Stechec-Timestamp"
SIGNATURE_HEADER = "X-Stechec-Signature"
MAX_SKEW_SECS = 60
# Big enough for a finished match of several players, each with a capped log
# tail; anything larger is refused before it is read.
MAX_BODY_BYTES = 8 * 1024 * 1024

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
    return hmac.new(secret.encode(), timestamp.encode() + b"\n" + body,
                    hashlib.sha256).hexdigest()


def signature_headers(secret, body):
    timestamp = f"{time.time():.6f}"
    return [(TIMESTAMP_HEADER, timestamp), (SIGNATURE_HEADER, sign(secret, timestamp, body))]


class _SignedTransport(xmlrpc.client.Transport):
    def __init__(self, secret, timeout):
        super().__init__(use_builtin_types=True)
        self._secret = secret
        self._timeout = timeout
        self._signature = []

    def make_connection(self, host):
        # As the base class (keeping the connection for HTTP/1.1 keep-alive),
        # with a timeout; http.client sets TCP_NODELAY itself.
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        chost, self._extra_headers, _ = self.get_host_info(host)
        self._connection = host, http.client.HTTPConnection(chost, timeout=self._timeout)
        return self._connection[1]

    def send_request(self, host, handler, request_body, debug):
        self._signature = signature_headers(self._secret, request_body)
        return super().send_request(host, handler, request_body, debug)

    def send_headers(self, connection, headers):
        super().send_headers(connection, headers + self._signature)


class RPCClient:
    """Calls methods of one peer: `client.heartbeat(...)` or `client.call("heartbeat", ...)`.

    Safe to share between greenlets: each call borrows a connection from a
    small pool, so concurrent calls do not wait on each other and successive
    calls reuse open connections.
    """

    def __init__(self, url, secret, timeout=10.0):
        self.url = url
        self._secret = secret
        self._timeout = timeout
        self._idle = []

    def __repr__(self):
        return f"RPCClient({self.url!r})"

    def _proxy(self):
        if self._idle:
            return self._idle.pop()
        return xmlrpc.client.ServerProxy(
            self.url, transport=_SignedTransport(self._secret, self._timeout),
            allow_none=True, use_builtin_types=True)

    def call(self, method, *args):
        proxy = self._proxy()
        try:
            result = getattr(proxy, method)(*args)
        except xmlrpc.client.Fault:
            self._idle.append(proxy)
            raise
        except BaseException:
            proxy("close")()
            raise
        self._idle.append(proxy)
        return result

    def close(self):
        while self._idle:
            self._idle.pop()("close")()

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
        from gevent import pywsgi

        class _NoDelayServer(pywsgi.WSGIServer):
            def handle(self, sock, address):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                super().handle(sock, address)

        self.server = _NoDelayServer((host, port), self.application, log=None,
                                     error_log=logger)
        self.server.start()
        return self.server

    @property
    def port(self):
        return self.server.server_port

    def stop(self):
        if self.server is not None:
            self.server.stop(timeout=1)

    def application(self, environ, start_response):
        status, body = self._handle(environ)
        start_response(status, [("Content-Type", "text/xml"),
                                ("Content-Length", str(len(body)))])
        return [body]

    def _handle(self, environ):
        peer = environ.get("REMOTE_ADDR", "?")
        if environ["REQUEST_METHOD"] != "POST":
            return "405 Method Not Allowed", b"XML-RPC takes POST only\n"
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            length = -1
        if length < 0:
            return "411 Length Required", b"Content-Length required\n"
        if length > self._max_body:
            logger.warning("%s: refused a %d-byte request from %s (limit %d)",
                           self.name, length, peer, self._max_body)
            return "413 Payload Too Large", b"request too large\n"
        body = environ["wsgi.input"].read(length)
        problem = self._check_signature(environ, body)
        if problem:
            logger.warning("%s: refused a request from %s: %s", self.name, peer, problem)
            return "401 Unauthorized", f"{problem}\n".encode()
        return "200 OK", self._dispatch(body, peer)

    def _check_signature(self, environ, body):
        timestamp = environ.get("HTTP_X_STECHEC_TIMESTAMP")
        signature = environ.get("HTTP_X_STECHEC_SIGNATURE")
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
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
            return _fault(PARSE_ERROR, "document type declarations are not accepted")
        try:
            params, method = xmlrpc.client.loads(body, use_builtin_types=True)
        except Exception as e:
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
            return xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True)\
                .encode("utf-8", "xmlcharrefreplace")
        except Exception as e:
            logger.exception("%s: %s returned a value XML-RPC cannot carry", self.name, method)
            return _fault(INTERNAL_ERROR, f"{method}: unmarshallable result: {e}")


def _fault(code, message):
    return xmlrpc.client.dumps(xmlrpc.client.Fault(code, message), methodresponse=True,
                               allow_none=True).encode("utf-8", "xmlcharrefreplace")


def require(condition, message):
    """Refuse an RPC call whose arguments are not what the method takes."""
    if not condition:
        raise RPCError(message)
