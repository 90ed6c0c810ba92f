"""A real HTTP relay between worker nodes and the master, for the tests' network failures.

It listens on a loopback port of its own (the workers' `master.port`), passes
each request on to the master over a connection of its own and the answer
back, and records which method each request called. It fails the way a
network does: `lose_answers(method, n)` passes the next `n` requests calling
`method` on but closes the worker's connection instead of answering (the
master did the work; the worker never hears of it), and `cut()` closes
every connection without passing anything on until `mend()`.
"""

import http.client
import http.server
import threading
import xmlrpc.client

# What the master needs of a request's headers besides its body.
FORWARDED_HEADERS = ("Content-Type", "X-Stechec-Timestamp", "X-Stechec-Signature")


class Relay:
    def __init__(self, master_port):
        self.master_port = master_port
        self.calls = []
        self._lose = {}
        self._cut = False
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def lose_answers(self, method, count=1):
        with self._lock:
            self._lose[method] = self._lose.get(method, 0) + count

    def cut(self):
        self._cut = True

    def mend(self):
        self._cut = False

    def calls_of(self, method):
        """The parameters of every call of `method` passed on, in order."""
        with self._lock:
            return [params for name, params in self.calls if name == method]

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def _pass_on(self, request):
        """The master's answer to `request` (status, headers, body), or None to hang up."""
        if self._cut:
            return None
        body = request.rfile.read(int(request.headers["Content-Length"]))
        params, method = xmlrpc.client.loads(body, use_builtin_types=True)
        with self._lock:
            self.calls.append((method, params))
            lose = self._lose.get(method, 0) > 0
            if lose:
                self._lose[method] -= 1
        connection = http.client.HTTPConnection("127.0.0.1", self.master_port, timeout=30)
        try:
            connection.request("POST", request.path, body,
                               {name: request.headers[name] for name in FORWARDED_HEADERS
                                if name in request.headers})
            response = connection.getresponse()
            answer = response.status, response.getheader("Content-Type"), response.read()
        finally:
            connection.close()
        return None if lose else answer

    def _handler(self):
        relay = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                answer = relay._pass_on(self)
                if answer is None:
                    self.close_connection = True
                    return
                status, content_type, body = answer
                self.send_response(status)
                self.send_header("Content-Type", content_type or "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler
