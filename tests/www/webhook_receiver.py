"""An HTTP receiver on loopback for the webhook tests: what a player's endpoint does."""

import http.server
import json
import threading
import time

# Long enough for any loaded machine: no assertion waits on the clock but for this bound.
PATIENCE_SECS = 120


class Receiver:
    """An HTTP server on 127.0.0.1 recording what it is POSTed. `answers` is what it does
    with each next request ("ok", "fail": HTTP 500, "hang": answer only once `release`
    is set, "slow": answer after a pause); "ok" once they run out."""

    def __init__(self, answers=()):
        self.answers = list(answers)
        self.requests = []
        self.release = threading.Event()
        self.hanging = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    answer = receiver.answers.pop(0) if receiver.answers else "ok"
                    receiver.requests.append((dict(self.headers), body))
                if answer == "hang":
                    receiver.hanging.set()
                    receiver.release.wait(PATIENCE_SECS)
                elif answer == "slow":
                    time.sleep(1)
                code = 500 if answer == "fail" else 200
                self.send_response(code)
                self.send_header("Content-Length", "7")
                self.end_headers()
                self.wfile.write(b"refused" if code == 500 else b"thanks!")

            def log_message(self, *args):
                pass

        lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook?from=stechec"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def deliveries(self):
        """Each request as (delivery id, event, decoded body), its signature checked."""
        found = []
        for headers, body in self.requests:
            assert headers["Content-Type"] == "application/json"
            found.append((int(headers["X-Stechec-Delivery"]), headers["X-Stechec-Event"],
                          json.loads(body), headers, body))
        return found
