import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.urls import reverse

from tests.www.conftest import client_for
from tests.www.helpers import STATUS, text

pytestmark = pytest.mark.django_db

def test_staff_see_workers_their_tasks_and_the_queue(client, staff, fake_master):
    fake_master(STATUS)

    response = client_for(client, staff).get(reverse("cluster-status"))

    page = text(response)
    assert response.status_code == 200
    assert page.index("worker-a") < page.index("worker-b")
    assert "3 / 4" in page and "75%" in page and "0 / 2" in page
    assert "3 / 6 slots used" in page
    assert reverse("match-detail", args=[42]) in page
    assert reverse("champion-detail", args=[7]) in page
    # How long each has run.
    assert 'match 42</a> (<span id="running-2-1">1 min 15 s</span>)' in page
    assert 'compile 7</a> (<span id="running-2-2">3 s</span>)' in page
    for figure in ("5 for players", "11 for tournaments", "13 background"):
        assert figure in page
    assert 'Oldest waiting task: <span id="oldest-waiting">1 h 2 min</span>' in page
    # The throughput chart: the complete minutes, compilations and matches.
    chart = page.split('<svg class="chart"', 1)[1].split("</svg>", 1)[0]
    assert 'aria-label="Tasks finished per minute"' in chart
    assert chart.count("<polyline") == 2 and "compilations" in chart and "matches" in chart
    assert "the last 14 minutes" in chart


def test_players_see_a_summary_with_the_expected_wait(alice_client, fake_master):
    fake_master(STATUS)

    page = text(alice_client.get(reverse("cluster-status")))

    assert '<dd id="workers-up">2</dd>' in page
    assert '<dd id="tasks-waiting">32</dd>' in page
    # 8 tasks ahead (3 compilations, 5 players' matches) and itself, at 4 a minute.
    assert '<dd id="expected-wait">about 2 minutes</dd>' in page
    for staff_only in ("worker-b", reverse("match-detail", args=[42]), "Oldest waiting",
                       "<svg", "Failures"):
        assert staff_only not in page


@pytest.mark.parametrize(("status", "wait"), [
    ({**STATUS, "queue": {"champions": {"new": 0}, "matches": {"new": {"player": 0}}}},
     "none: it starts at once"),
    ({**STATUS, "throughput": {"minutes": 15, "compile": [0] * 15, "match": [0] * 15}},
     "unknown: no task finished in the last minutes"),
    ({**STATUS, "workers": []}, "unknown: no worker is up, new matches wait for one"),
    # A master from before the throughput and the ages.
    ({"workers": STATUS["workers"], "queue": {k: v for k, v in STATUS["queue"].items()
                                              if k != "oldest_waiting_secs"}},
     "unknown: no task finished in the last minutes"),
    ({**STATUS, "throughput": {"minutes": 15, "compile": [0] * 15, "match": [90] * 15}},
     "under a minute"),
])
def test_the_expected_wait(alice_client, fake_master, status, wait):
    fake_master(status)
    page = text(alice_client.get(reverse("cluster-status")))
    assert f'<dd id="expected-wait">{wait}</dd>' in page


def test_a_worker_taking_no_task_says_why_to_staff(client, alice, staff, fake_master):
    problem = "the shared directory /srv/stechec has no tictactoe/ directory: is the share mounted?"
    fake_master({**STATUS, "workers": [dict(STATUS["workers"][1], free_slots=0,
                                            problem=problem)]})

    client.force_login(staff)
    assert f"takes no task: {problem}" in text(client.get(reverse("cluster-status")))
    client.force_login(alice)
    page = text(client.get(reverse("cluster-status")))
    assert '<dd id="workers-up">0</dd>' in page and "/srv/stechec" not in page


def test_a_master_refusing_the_call_gets_a_message(alice_client, fake_master):
    fake_master(None)
    page = text(alice_client.get(reverse("cluster-status")))
    assert "The master node refused the request: status is switched off" in page


def test_a_wrong_shared_secret_gets_a_message(alice_client, fake_master):
    fake_master(STATUS, secret="another secret")
    page = text(alice_client.get(reverse("cluster-status")))
    assert "HTTP 401" in page and "shared_secret" in page


def test_no_master_listening_gets_a_message_not_a_crash(alice_client, site):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    site["master"].update(host="127.0.0.1", port=free_port)

    response = alice_client.get(reverse("cluster-status"))

    assert response.status_code == 200
    assert f"The master node at 127.0.0.1:{free_port} cannot be reached" in text(response)


def test_a_master_that_never_answers_times_out_with_a_message(alice_client, site):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        site["master"].update(host="127.0.0.1", port=silent.getsockname()[1], timeout_secs=0.5)

        response = alice_client.get(reverse("cluster-status"))

    assert response.status_code == 200
    assert "cannot be reached (timed out)" in text(response)


def test_something_else_than_a_master_gets_a_message(alice_client, site):
    """A web server that is not a master (answers 200 with HTML) on the master's port."""
    class NotAMaster(BaseHTTPRequestHandler):
        def do_POST(self):
            body = b"<html>hello</html"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), NotAMaster)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        site["master"].update(host="127.0.0.1", port=server.server_port)
        response = alice_client.get(reverse("cluster-status"))
    finally:
        server.shutdown()
        server.server_close()

    assert response.status_code == 200
    assert "The master node's answer is not XML-RPC (malformed answer: not well-formed XML" \
        in text(response)
