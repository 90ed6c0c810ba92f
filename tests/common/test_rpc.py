"""Signed XML-RPC: what a genuine peer gets, and what everything else gets."""

import http.client
import os
import subprocess
import sys
import threading
import time
import xmlrpc.client

import pytest

from stechec.common import rpc
from stechec.common.rpc import RPCClient

SECRET = "rpc-test-secret"


@pytest.fixture(scope="module")
def server():
    process = subprocess.Popen(
        [sys.executable, os.path.join(os.path.dirname(__file__), "rpc_test_server.py"), SECRET],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = int(process.stdout.readline())
    yield port
    process.stdin.close()
    process.wait(timeout=30)


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


def test_calls_reuse_their_connection_and_set_tcp_nodelay(client):
    client.echo(1)
    proxy = client._idle[-1]
    connection = proxy("transport")._connection[1]
    client.echo(2)
    assert client._idle[-1]("transport")._connection[1] is connection
    assert connection.sock.getsockopt(6, 1) == 1  # IPPROTO_TCP, TCP_NODELAY


def test_a_slow_call_does_not_hold_up_another(client, server):
    order = []
    other = RPCClient(rpc.server_url("127.0.0.1", server), SECRET, timeout=30)
    slow = threading.Thread(target=lambda: order.append(other.sleep(3)))
    slow.start()
    time.sleep(0.2)
    order.append(client.echo("quick"))
    slow.join()
    assert order == ["quick", "slept"]


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
