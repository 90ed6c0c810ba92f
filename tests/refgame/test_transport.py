"""Addresses and the message stream between server and clients."""

import socket

import pytest
import yaml

from stechec.refgame import server, transport


@pytest.mark.parametrize(("address", "parsed"), [
    ("tcp://127.0.0.1:4242", (socket.AF_INET, ("127.0.0.1", 4242))),
    ("tcp://*:4242", (socket.AF_INET, ("", 4242))),
    ("tcp://[::1]:4242", (socket.AF_INET6, ("::1", 4242))),
    ("tcp://localhost:0", (socket.AF_INET, ("localhost", 0))),
    ("ipc:///run/match/1.sock", (socket.AF_UNIX, "/run/match/1.sock")),
])
def test_address_is_parsed(address, parsed):
    assert transport.parse_address(address) == parsed


@pytest.mark.parametrize("address", ["tcp://host", "tcp://host:http", "tcp://host:70000",
                                     "ipc://", "udp://host:1", "/tmp/socket"])
def test_bad_address_is_refused(address):
    with pytest.raises(transport.AddressError, match="expected|needs a path"):
        transport.parse_address(address)


def test_messages_cross_a_socket_whole_and_in_order(tmp_path):
    address = f"ipc://{tmp_path}/s.sock"
    listener = transport.listen(address)
    client = transport.MessageStream(transport.connect(address, retry_secs=5, timeout_secs=5))
    accepted = transport.MessageStream(listener.accept()[0])
    client.send({"turn": 1, "move": "0 0"})
    client.send({"turn": 2, "move": "x" * 100_000})
    assert accepted.receive(5) == {"turn": 1, "move": "0 0"}
    assert accepted.receive(5)["move"] == "x" * 100_000
    assert accepted.receive(0.05) is None
    client.close()
    with pytest.raises(transport.ConnectionLost, match="closed"):
        accepted.receive(5)
    transport.close_listener(listener)
    assert not (tmp_path / "s.sock").exists()


def test_garbage_on_the_stream_loses_the_connection(tmp_path):
    listener = transport.listen("tcp://127.0.0.1:0")
    port = listener.getsockname()[1]
    raw = transport.connect(f"tcp://127.0.0.1:{port}", retry_secs=5, timeout_secs=5)
    accepted = transport.MessageStream(listener.accept()[0])
    raw.sendall(b"[1, 2]\n")
    with pytest.raises(transport.ConnectionLost, match="not a JSON object"):
        accepted.receive(5)
    raw.sendall(b"not json\n")
    with pytest.raises(transport.ConnectionLost, match="not a JSON message"):
        accepted.receive(5)
    raw.close()
    transport.close_listener(listener)


@pytest.mark.parametrize("name", ["12", "player-1", "a b", "x: y", "- z", "#1", "é"])
def test_player_names_survive_the_yaml_results(name):
    seat = server.Seat(0)
    seat.name = name
    assert list(yaml.safe_load_all(server.results([seat], [2]))) == [
        {"player": yaml.safe_load(name) if name.isdigit() else name, "score": 2,
         "nb_timeout": 0}]
