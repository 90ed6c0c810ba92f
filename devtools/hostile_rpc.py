"""Hostile RPC requests to the master and to a worker: each must be refused.

Refused means HTTP 400, 401, 405, 411, 413 or 431, or an XML-RPC fault other than an
internal error (an internal error is a method that did not check its
arguments: counted as a crash, like a 5xx or a dropped connection). The
caller compares the cluster's state before and after the whole batch.
"""

import http.client
import time
import urllib.parse
import xmlrpc.client

from stechec.common import rpc
from stechec.common.tasks import (
    CompilationResult,
    CompileTask,
    MatchResult,
    MatchResultPlayer,
    MatchTask,
    MatchTaskPlayer,
    Status,
)

# What stechec.common.httpwire and the signature check answer.
REFUSED_STATUSES = {400, 401, 405, 411, 413, 431}
TIMEOUT_SECS = 60

WORKER = ["hostile.invalid", 9, 1, 1]
# Well-formed payloads, which each attack spoils in one way.
COMPILE_RESULT = CompilationResult(status=Status.READY, language="c", log="", reason="")


def match_result(players):
    return MatchResult(status=Status.DONE, reason="", retryable=False, server_exit=0,
                       server_log="", players=players)


def player(matchplayer_id, **changes):
    return {**MatchResultPlayer(matchplayer_id=matchplayer_id, champion_id=1, score=1,
                                nb_timeout=0, exit_status=0, log=""), **changes}


class RawRPC:
    """POSTs arbitrary bytes with arbitrary headers to one node's RPC server."""

    def __init__(self, url, secret):
        parsed = urllib.parse.urlsplit(url)
        self.url = url
        self.host, self.port = parsed.hostname, parsed.port
        self.secret = secret

    def post(self, body, headers=None, *, method="POST"):
        """(HTTP status, response body); (None, error text) when the connection failed."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_SECS)
        try:
            connection.putrequest(method, "/")
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            connection.endheaders()
            try:
                connection.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # Refused before it was all sent: the answer may still be there.
            response = connection.getresponse()
            return response.status, response.read()
        except OSError as e:
            return None, f"{type(e).__name__}: {e}"
        finally:
            connection.close()

    def signed(self, body, timestamp=None, length=None):
        timestamp = str(time.time() if timestamp is None else timestamp)
        return self.post(body, {
            "Content-Type": "text/xml", "Content-Length": str(len(body) if length is None
                                                              else length),
            "X-Stechec-Timestamp": timestamp,
            "X-Stechec-Signature": rpc.sign(self.secret, timestamp, body)})


def call_body(method, *params):
    return xmlrpc.client.dumps(params, method, allow_none=True).encode()


def raw_call(method, *values):
    """A call whose parameters are given as raw XML-RPC `<value>` texts."""
    params = "".join(f"<param>{value}</param>" for value in values)
    return (f"<?xml version='1.0'?><methodCall><methodName>{method}</methodName>"
            f"<params>{params}</params></methodCall>").encode()


def outcome(status, body):
    """('refused' | 'accepted' | 'crash', detail) for one response."""
    if status is None:
        return "crash", f"no answer ({body})"
    if status in REFUSED_STATUSES:
        return "refused", f"HTTP {status}"
    if status != 200:
        return "crash", f"HTTP {status}"
    try:
        xmlrpc.client.loads(body)
    except xmlrpc.client.Fault as fault:
        if fault.faultCode == rpc.INTERNAL_ERROR:
            return "crash", f"internal error: {fault.faultString}"
        return "refused", f"fault {fault.faultCode}: {fault.faultString}"
    except Exception as e:
        return "crash", f"unreadable answer: {e}"
    return "accepted", f"answered {body[:200]!r}"


def deep_nesting(levels):
    return raw_call("status", "<value><array><data>" * levels + "<value><int>1</int></value>"
                    + "</data></array></value>" * levels)


def transport_attacks(node):
    """Requests refused before any method runs: signatures, sizes, verbs, XML."""
    status = call_body("status")
    stale = time.time() - 3600
    yield "unsigned", lambda: node.post(status, {"Content-Length": str(len(status))})
    yield "wrong signature", lambda: node.post(status, {
        "Content-Length": str(len(status)), "X-Stechec-Timestamp": str(time.time()),
        "X-Stechec-Signature": "0" * 64})
    yield "signed with another secret", lambda: RawRPC(node.url, "not the secret").signed(status)
    yield "stale timestamp", lambda: node.signed(status, timestamp=stale)
    yield "future timestamp", lambda: node.signed(status, timestamp=time.time() + 3600)
    yield "malformed timestamp", lambda: node.signed(status, timestamp="yesterday")
    yield "NaN timestamp", lambda: node.signed(status, timestamp="nan")
    yield "replayed request", lambda: _replay(node, status)
    yield "GET", lambda: node.post(b"", {}, method="GET")
    yield "no Content-Length", lambda: node.post(b"", {"X-Stechec-Timestamp": "1"})
    yield "negative Content-Length", lambda: node.signed(status, length=-5)
    yield "9 MiB body", lambda: node.signed(b"<" * (9 * 2**20))
    yield "Content-Length of 1 TiB", lambda: node.signed(status, length=2**40)
    yield "not XML", lambda: node.signed(b"\x00\xff\xfe garbage")
    yield "truncated XML", lambda: node.signed(status[:len(status) // 2])
    yield "empty body", lambda: node.signed(b"")
    yield "entity expansion", lambda: node.signed(
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<methodCall><methodName>&b;</methodName></methodCall>")
    yield "external entity", lambda: node.signed(
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<methodCall><methodName>&x;</methodName></methodCall>")
    yield "entity expansion in UTF-16", lambda: node.signed(
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<methodCall><methodName>&b;</methodName></methodCall>".encode("utf-16"))
    yield "deep nesting", lambda: node.signed(deep_nesting(100_000))
    yield "bad base64", lambda: node.signed(raw_call("status", "<value><base64>@@@</base64>"
                                                               "</value>"))
    yield "bad dateTime", lambda: node.signed(raw_call(
        "status", "<value><dateTime.iso8601>never</dateTime.iso8601></value>"))
    yield "bad int", lambda: node.signed(raw_call("status", "<value><int>one</int></value>"))
    yield "unknown type", lambda: node.signed(raw_call("status", "<value><evil/></value>"))
    for method in ("no_such_method", "__init__", "_apply", "register", "system.listMethods",
                   "status.__class__", ""):
        yield f"unknown method {method!r}", lambda m=method: node.signed(call_body(m))


def _replay(node, body):
    """The same signed request twice: the second copy must get 401."""
    timestamp = str(time.time())
    headers = {"Content-Length": str(len(body)), "X-Stechec-Timestamp": timestamp,
               "X-Stechec-Signature": rpc.sign(node.secret, timestamp, body)}
    first = node.post(body, headers)
    if first[0] != 200:
        return None, f"the original request was refused: HTTP {first[0]}"
    return node.post(body, headers)


def master_calls(match_id, matchplayer_ids, champion_id):
    """Wrong arity, types and values for each master method (ids of a real match)."""
    good_players = [player(i) for i in matchplayer_ids]
    huge = "<value><i8>99999999999999999999999</i8></value>"
    return {
        "heartbeat()": call_body("heartbeat"),
        "heartbeat with 5 arguments": call_body("heartbeat", WORKER, False, [], "", 1),
        "heartbeat with a number as its problem": call_body("heartbeat", WORKER, False, [], 1),
        "heartbeat with a string port": call_body("heartbeat", ["h", "80", 1, 1], False, []),
        "heartbeat with port 0": call_body("heartbeat", ["h", 0, 1, 1], False, []),
        "heartbeat with port 70000": call_body("heartbeat", ["h", 70000, 1, 1], False, []),
        "heartbeat with an empty hostname": call_body("heartbeat", ["", 9, 1, 1], False, []),
        "heartbeat with negative slots": call_body("heartbeat", ["h", 9, -1, 1], False, []),
        "heartbeat with a short worker": call_body("heartbeat", ["h", 9], False, []),
        "heartbeat with a struct worker": call_body("heartbeat", {"h": 9}, False, []),
        "heartbeat with a float port": call_body("heartbeat", ["h", 9.5, 1, 1], False, []),
        "heartbeat with a string first": call_body("heartbeat", WORKER, "yes", []),
        "heartbeat with running a string": call_body("heartbeat", WORKER, False, "all"),
        "heartbeat with an empty task ref": call_body("heartbeat", WORKER, False, [{}]),
        "heartbeat with a bad task kind": call_body(
            "heartbeat", WORKER, False, [{"kind": "evil", "id": 1, "attempt": 1}]),
        "heartbeat with a string task id": call_body(
            "heartbeat", WORKER, False, [{"kind": "match", "id": "1", "attempt": 1}]),
        "heartbeat with a huge port": raw_call(
            "heartbeat", f"<value><array><data><value>h</value>{huge}<value><int>1</int>"
            "</value><value><int>1</int></value></data></array></value>",
            "<value><boolean>0</boolean></value>", "<value><array><data/></array></value>"),
        "compilation_result()": call_body("compilation_result"),
        "compilation_result with a negative id": call_body(
            "compilation_result", WORKER, -champion_id, 1, COMPILE_RESULT),
        "compilation_result with a zero attempt": call_body(
            "compilation_result", WORKER, champion_id, 0, COMPILE_RESULT),
        "compilation_result with a huge id": raw_call(
            "compilation_result", "<value><array><data><value>h</value><value><int>9</int>"
            "</value><value><int>1</int></value><value><int>1</int></value></data></array>"
            "</value>", huge, "<value><int>1</int></value>",
            "<value><struct><member><name>status</name><value>ready</value></member>"
            "</struct></value>"),
        "compilation_result with a string id": call_body(
            "compilation_result", WORKER, str(champion_id), 1, COMPILE_RESULT),
        "compilation_result with a string result": call_body(
            "compilation_result", WORKER, champion_id, 1, "ready"),
        "compilation_result with an unknown status": call_body(
            "compilation_result", WORKER, champion_id, 1, {**COMPILE_RESULT, "status": "pwned"}),
        "compilation_result missing its log": call_body(
            "compilation_result", WORKER, champion_id, 1, {"status": "error"}),
        "compilation_result with a number for its log": call_body(
            "compilation_result", WORKER, champion_id, 1, {**COMPILE_RESULT, "log": 7}),
        # What a worker sent when it wrote logs as strings: not XML, whatever it says.
        "compilation_result with ESC and NUL in a string log": call_body(
            "compilation_result", WORKER, champion_id, 1,
            {**COMPILE_RESULT, "log": "\x1b[1;31mserver\x1b[0m \x00"}),
        "match_done()": call_body("match_done"),
        "match_done with a negative id": call_body(
            "match_done", WORKER, -match_id, 1, match_result(good_players)),
        "match_done with a zero id": call_body(
            "match_done", WORKER, 0, 1, match_result(good_players)),
        "match_done with a negative attempt": call_body(
            "match_done", WORKER, match_id, -1, match_result(good_players)),
        "match_done with a string result": call_body("match_done", WORKER, match_id, 1, "done"),
        "match_done with only a status": call_body(
            "match_done", WORKER, match_id, 1, {"status": "done"}),
        "match_done with an unknown status": call_body(
            "match_done", WORKER, match_id, 1, {**match_result(good_players), "status": "won"}),
        "match_done with players a struct": call_body(
            "match_done", WORKER, match_id, 1, {**match_result(good_players), "players": {}}),
        "match_done with a player missing keys": call_body(
            "match_done", WORKER, match_id, 1, match_result([{"score": 1}])),
        "match_done with a string score": call_body(
            "match_done", WORKER, match_id, 1,
            match_result([player(i, score="1") for i in matchplayer_ids])),
        "match_done done without scores": call_body(
            "match_done", WORKER, match_id, 1,
            match_result([player(i, score=None) for i in matchplayer_ids])),
        "match_done with a negative timeout count": call_body(
            "match_done", WORKER, match_id, 1,
            match_result([player(i, nb_timeout=-1) for i in matchplayer_ids])),
        "match_done with duplicate players": call_body(
            "match_done", WORKER, match_id, 1,
            match_result([player(matchplayer_ids[0])] * 2)),
        "match_done with a huge score": raw_call(
            "match_done", "<value><array><data><value>h</value><value><int>9</int></value>"
            "<value><int>1</int></value><value><int>1</int></value></data></array></value>",
            f"<value><int>{match_id}</int></value>", "<value><int>1</int></value>",
            "<value><struct><member><name>status</name><value>done</value></member>"
            "<member><name>players</name><value><array><data><value><struct>"
            f"<member><name>matchplayer_id</name><value><int>{matchplayer_ids[0]}</int>"
            f"</value></member><member><name>score</name>{huge}</member>"
            "</struct></value></data></array></value></member></struct></value>"),
        "match_done with a player's log an array": call_body(
            "match_done", WORKER, match_id, 1,
            match_result([player(i, log=[]) for i in matchplayer_ids])),
        "match_done with a NaN exit status": call_body(
            "match_done", WORKER, match_id, 1,
            match_result([player(i, exit_status=float("nan")) for i in matchplayer_ids])),
        "match_done with a player's verdict a string": call_body(
            "match_done", WORKER, match_id, 1,
            match_result([player(i, verdict="crashed") for i in matchplayer_ids])),
        "match_done with an unknown limit in a verdict": call_body(
            "match_done", WORKER, match_id, 1,
            match_result([player(i, verdict={
                "ended": "limit", "exit_status": None, "signal": "", "limit": "patience",
                "limit_value": "", "cpu_ms": 0, "wall_ms": 0, "peak_memory_kib": 0,
                "memory_from": "rusage"}) for i in matchplayer_ids])),
        "status with an argument": call_body("status", 1),
    }


def worker_calls(champion_id, user):
    """Wrong arity, types and values for each worker method; sources of a real champion."""
    compile_task = CompileTask(champion_id=champion_id, attempt=1, user=user, slots=1)
    match_task = MatchTask(match_id=1, attempt=1, slots=3, map=None, options="", players=[
        MatchTaskPlayer(matchplayer_id=1, champion_id=champion_id, user=user)])
    calls = {
        "compile_champion()": call_body("compile_champion"),
        "compile_champion with a string": call_body("compile_champion", "task"),
        "compile_champion with no keys": call_body("compile_champion", {}),
        "status with an argument": call_body("status", 1),
        "run_match()": call_body("run_match"),
        "run_match with a string": call_body("run_match", "match"),
        "run_match with players a string": call_body("run_match",
                                                     {**match_task, "players": "all"}),
        "run_match with no players": call_body("run_match", {**match_task, "players": []}),
        "run_match with a struct map": call_body("run_match", {**match_task, "map": {}}),
        "run_match with a string id": call_body("run_match", {**match_task, "match_id": "1"}),
        "run_match with a negative id": call_body("run_match", {**match_task, "match_id": -1}),
        "run_match with zero slots": call_body("run_match", {**match_task, "slots": 0}),
        "run_match with a zero attempt": call_body("run_match", {**match_task, "attempt": 0}),
        "run_match with a negative player id": call_body("run_match", {
            **match_task, "players": [{**match_task["players"][0], "matchplayer_id": -1}]}),
        "cancel()": call_body("cancel"),
        "cancel an unknown kind": call_body("cancel", "evil", 1, 1),
        "cancel a string id": call_body("cancel", "match", "1", 1),
        "cancel a negative id": call_body("cancel", "compile", -1, 1),
        "cancel a struct attempt": call_body("cancel", "compile", 1, {}),
    }
    for user_name in ("../" + user, "../../../../etc", "/etc", "a/b", "", ".", "..",
                      user + "\x00"):
        calls[f"compile_champion by user {user_name!r}"] = call_body(
            "compile_champion", {**compile_task, "user": user_name})
        calls[f"run_match with user {user_name!r}"] = call_body("run_match", {
            **match_task, "players": [{**match_task["players"][0], "user": user_name}]})
    for key, value in (("champion_id", -champion_id), ("champion_id", 0),
                       ("champion_id", str(champion_id)), ("attempt", -1), ("slots", 0),
                       ("slots", -3), ("user", 5)):
        calls[f"compile_champion with {key} {value!r}"] = call_body(
            "compile_champion", {**compile_task, key: value})
    return calls


def attack(tally, target, node, calls):
    """Send every transport attack and every call to one node; tally each outcome."""
    attacks = list(transport_attacks(node))
    attacks += [(name, lambda b=body: node.signed(b)) for name, body in calls.items()]
    for name, send in attacks:
        tally.input()
        result, detail = outcome(*send())
        if result == "crash":
            tally.crash(f"RPC to the {target}: {name}", detail)
        elif result == "accepted":
            tally.accepted_bad(f"RPC to the {target}: {name}", detail)
