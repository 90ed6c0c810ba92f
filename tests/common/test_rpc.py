"""Signed XML-RPC: what a genuine peer gets, and what everything else gets."""

import contextlib
import http.client
import os
import select
import socket
import subprocess
import sys
import threading
import time
import xmlrpc.client

import pytest

from stechec.common import httpwire, rpc
from stechec.common.rpc import RPCClient
from tests.conftest import wait_for

SECRET = "rpc-test-secret"


@contextlib.contextmanager
def rpc_server_process(*options):
    """The port of an rpc_test_server.py process started with `options`."""
    process = subprocess.Popen(
        [sys.executable, os.path.join(os.path.dirname(__file__), "rpc_test_server.py"), SECRET,
         *options], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield int(process.stdout.readline())
    finally:
        process.stdin.close()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def server():
    with rpc_server_process() as port:
        yield port


@pytest.fixture(scope="module")
def impatient_server():
    """Closes a connection idle for half a second, or a request not received within one."""
    with rpc_server_process("--idle-secs", "0.5", "--request-secs", "1") as port:
        yield port


@pytest.fixture
def client(server):
    client = RPCClient(rpc.server_url("127.0.0.1", server), SECRET, timeout=30)
    yield client
    client.close()


def post(port, body, headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/", body=body, headers=headers)
    response = connection.getresponse()
    result = response.status, response.read()
    connection.close()
    return result


def request_body(method, *args):
    return xmlrpc.client.dumps(args, method, allow_none=True).encode()


def test_a_signed_call_carries_nested_values_and_none(client):
    value = {"players": [{"id": 3, "score": None, "log": "é\u2603"}], "ok": True, "x": 1.5}
    assert client.echo(value) == value


def test_bytes_cross_as_they_are_and_any_string_makes_a_well_formed_call(client):
    """Logs are bytes: base64 carries all 256 values there and back. A string holding what
    XML cannot carry (a reason quoting a program) arrives with visible stand-ins, where
    the standard library would have written a body every reader refuses."""
    every_byte = bytes(range(256))
    assert client.echo({"log": every_byte, "logs": [every_byte[::-1]]}) == \
        {"log": every_byte, "logs": [every_byte[::-1]]}

    def escaped(*codes):
        return "".join(f"\\x{code:02x}" for code in codes)

    reason = "".join(map(chr, range(0x20))) + " \ud800 \ufffe \uffff \U0001f600 \x7f\x85"
    # (A CR arrives as a line feed: XML readers normalise line ends.)
    assert client.echo(reason) == (escaped(*range(9)) + "\t\n" + escaped(0x0B, 0x0C) + "\n"
                                   + escaped(*range(0x0E, 0x20))
                                   + " \ufffd \ufffd \ufffd \U0001f600 \x7f\x85")
    # The answers are written the same way: a refusal quoting a NUL is a fault, not a
    # malformed answer.
    with pytest.raises(xmlrpc.client.Fault) as refused:
        client.refuse("bad byte \x00")
    assert refused.value.faultString == "bad byte \\x00"


def test_calls_reuse_their_connection_and_set_tcp_nodelay(client):
    client.echo(1)
    connection = client._idle[-1]
    client.echo(2)
    assert client._idle == [connection]
    assert connection.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def closed_by_peer(sock):
    """Whether the other end closed `sock` (it reads as the end of the stream)."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""


def test_a_connection_the_server_closed_while_idle_is_replaced(impatient_server):
    client = RPCClient(rpc.server_url("127.0.0.1", impatient_server), SECRET, timeout=30)
    assert client.touch("before the pause") == 1
    stale = client._idle[-1]
    wait_for(lambda: closed_by_peer(stale.socket), "the server to close the idle connection")
    assert client.touch("after the pause") == 2
    assert client._idle and client._idle[-1] is not stale
    assert client.touches() == ["before the pause", "after the pause"]


def test_a_slow_call_does_not_hold_up_another(client, server):
    answers = []
    other = RPCClient(rpc.server_url("127.0.0.1", server), SECRET, timeout=30)
    slow = threading.Thread(target=lambda: answers.append(other.hold()))
    slow.start()
    wait_for(lambda: client.holding() == 1, "the slow call to be in the server")
    # Answered while the slow call waits: a server serving one call at a time never would
    # (the slow call waits for this one).
    assert client.release() is True
    slow.join()
    assert answers == ["released"]


def test_an_unsigned_request_gets_401_and_runs_nothing(client, server):
    before = len(client.touches())
    status, body = post(server, request_body("touch", "unsigned"), {})
    assert (status, body) == (401, b"unsigned request\n")
    assert len(client.touches()) == before


def test_a_wrong_secret_gets_401_and_runs_nothing(client, server):
    before = len(client.touches())
    forger = RPCClient(rpc.server_url("127.0.0.1", server), "not-the-secret", timeout=30)
    with pytest.raises(xmlrpc.client.ProtocolError) as raised:
        forger.touch("forged")
    assert raised.value.errcode == 401
    assert len(client.touches()) == before


def test_a_stale_timestamp_gets_401(client, server):
    body = request_body("touch", "stale")
    stamp = f"{time.time() - 3600:.6f}"
    headers = {rpc.TIMESTAMP_HEADER: stamp, rpc.SIGNATURE_HEADER: rpc.sign(SECRET, stamp, body)}
    status, answer = post(server, body, headers)
    assert status == 401 and answer.startswith(b"stale timestamp")
    assert "stale" not in client.touches()


def test_a_body_changed_after_signing_gets_401(server):
    headers = dict(rpc.signature_headers(SECRET, request_body("touch", "a")))
    status, _ = post(server, request_body("touch", "b"), headers)
    assert status == 401


def test_a_replayed_request_gets_401_and_runs_once(client, server):
    body = request_body("touch", "replayed")
    headers = dict(rpc.signature_headers(SECRET, body))
    assert post(server, body, headers)[0] == 200
    assert post(server, body, headers) == (401, b"replayed request\n")
    assert client.touches().count("replayed") == 1


def test_a_huge_body_is_refused_before_it_is_read(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    connection.putrequest("POST", "/")
    connection.putheader("Content-Length", str(rpc.MAX_BODY_BYTES + 1))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    connection.close()


def test_get_is_refused(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    connection.request("GET", "/")
    assert connection.getresponse().status == 405
    connection.close()


def signed_post(port, body):
    return post(port, body, dict(rpc.signature_headers(SECRET, body)))


def fault_of(port, body):
    status, answer = signed_post(port, body)
    assert status == 200
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc.client.loads(answer)
    return raised.value.faultCode, raised.value.faultString


def test_malformed_xml_is_a_parse_fault(server):
    code, message = fault_of(server, b"<methodCall><methodName>echo</methodName><params>")
    assert code == rpc.PARSE_ERROR and "malformed" in message


def test_a_document_type_declaration_is_refused(server):
    body = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
            b"<methodCall><methodName>echo</methodName><params><param><value>&a;</value>"
            b"</param></params></methodCall>")
    assert fault_of(server, body)[0] == rpc.PARSE_ERROR


def test_deep_nesting_is_answered_not_crashed(client, server):
    depth = 5000
    body = (b"<methodCall><methodName>echo</methodName><params><param>"
            + b"<value><array><data>" * depth + b"</data></array></value>" * depth
            + b"</param></params></methodCall>")
    status, _ = signed_post(server, body)
    assert status == 200
    assert client.echo("still serving") == "still serving"


def test_an_unknown_method_is_a_fault(client):
    with pytest.raises(xmlrpc.client.Fault) as raised:
        client.no_such_method()
    assert raised.value.faultCode == rpc.METHOD_NOT_FOUND


def test_a_wrong_number_of_arguments_is_a_fault_and_runs_nothing(client):
    before = len(client.touches())
    with pytest.raises(xmlrpc.client.Fault) as raised:
        client.touch("a", "b")
    assert raised.value.faultCode == rpc.INVALID_PARAMS
    assert len(client.touches()) == before


def test_a_refusal_carries_its_message(client):
    with pytest.raises(xmlrpc.client.Fault) as raised:
        client.refuse("champion_id must be an integer")
    assert (raised.value.faultCode, raised.value.faultString) == \
        (rpc.APPLICATION_ERROR, "champion_id must be an integer")


def test_a_crash_in_a_method_is_an_internal_fault_and_the_server_goes_on(client):
    with pytest.raises(xmlrpc.client.Fault) as raised:
        client.crash()
    assert raised.value.faultCode == rpc.INTERNAL_ERROR
    assert "ZeroDivisionError" in raised.value.faultString
    assert client.echo(1) == 1


def test_an_unreachable_peer_raises_oserror():
    with pytest.raises(OSError):
        RPCClient("http://127.0.0.1:9/", SECRET, timeout=5).echo(1)


def exchange(port, data):
    """Send raw bytes on a new connection; everything the server sent until it closed it."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize("request_head, status, says", [
    (b"POST /\r\n\r\n", 400, b"malformed request line"),
    (b"POST / HTTP/2.0\r\n\r\n", 400, b"malformed request line"),
    (b"POST / HTTP/1.1\r\nno colon here\r\n\r\n", 400, b"malformed header line"),
    (b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400, b"malformed Content-Length"),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411, b"chunked"),
    (b"POST / HTTP/1.1\r\nX-Long: " + b"a" * 10000 + b"\r\n\r\n", 431, b"longer than"),
    (b"POST / HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 100 + b"\r\n", 431, b"headers"),
])
def test_malformed_http_gets_one_status_naming_the_problem_and_is_closed(
        client, server, request_head, status, says):
    answer = exchange(server, request_head)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status)
    assert b"Connection: close" in head and says in body
    assert client.echo("still serving") == "still serving"


def test_pipelined_requests_are_answered_in_order_on_one_connection(client, server):
    requests = b""
    for tag in ("first", "second"):
        body = request_body("echo", tag)
        headers = rpc.signature_headers(SECRET, body) + [("Content-Type", "text/xml")]
        requests += httpwire.message("POST / HTTP/1.1", headers, body)
    requests += b"POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    answers = exchange(server, requests)
    assert answers.count(b"HTTP/1.1 200 OK") == 2 and answers.count(b"HTTP/1.1 401") == 1
    assert answers.index(b"first") < answers.index(b"second")


def test_an_http_1_0_request_is_answered_then_its_connection_closed(server):
    body = request_body("echo", "old client")
    headers = rpc.signature_headers(SECRET, body)
    answer = exchange(server, httpwire.message("POST / HTTP/1.0", headers, body))
    assert answer.startswith(b"HTTP/1.1 200 OK") and b"old client" in answer


def test_a_stalled_request_is_cut_off_and_the_server_goes_on(impatient_server):
    # Closed by the server, with nothing sent: a server that waited for the rest would
    # leave exchange() to time out.
    assert exchange(impatient_server, b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc") \
        == b""
    client = RPCClient(rpc.server_url("127.0.0.1", impatient_server), SECRET, timeout=30)
    assert client.echo("still serving") == "still serving"
