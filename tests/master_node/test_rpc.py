"""The master's RPC methods: refusals, stale and duplicate results, status."""

import concurrent.futures
import http.client
import time
import xmlrpc.client

import pytest

from stechec.common.rpc import RPCClient, sign
from stechec.contest.models import Champion, Match, MatchPlayer

from .conftest import SECRET, all_finished, new_champions, new_matches, wait_for


@pytest.fixture
def running_match(cluster, player):
    """A match pending (attempt 1) on a worker that never reports it."""
    cluster.start_master()
    stuck = cluster.start_workers("stuck", slots=3, hold=True)
    [match] = new_matches(player, 1)
    wait_for(lambda: stuck.events("received"), "the worker to get the match")
    port = int(stuck.names[0].split(":")[1])
    return match, ["127.0.0.1", port, 3, 3], cluster.master, stuck


def match_result(match, score_offset=0):
    return {"status": "done", "reason": "", "retryable": False, "server_exit": 0,
            "server_log": "", "players": [
                {"matchplayer_id": mp.id, "champion_id": mp.champion_id,
                 "score": mp.id + score_offset, "nb_timeout": 0, "exit_status": 0, "log": ""}
                for mp in match.players.all()]}


# A verdict as workers send it (stechec.common.verdicts).
VERDICT = {"ended": "exit", "exit_status": 0, "signal": "", "limit": "", "limit_value": "",
           "cpu_ms": 120, "wall_ms": 900, "peak_memory_kib": 20480, "memory_from": "cgroup"}


def raw_post(master, body, headers):
    conn = http.client.HTTPConnection("127.0.0.1", master.port, timeout=10)
    conn.request("POST", "/", body, dict(headers, **{"Content-Type": "text/xml"}))
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def assert_untouched(match):
    match.refresh_from_db()
    assert (match.status, match.attempts) == (Match.Status.PENDING, 1)
    assert set(MatchPlayer.objects.filter(match=match).values_list("score", flat=True)) == {None}


def test_forged_unsigned_stale_and_replayed_requests_change_nothing(running_match):
    match, worker, master, _ = running_match
    body = xmlrpc.client.dumps((worker, match.id, 1, match_result(match)), "match_done",
                               allow_none=True).encode()

    with pytest.raises(xmlrpc.client.ProtocolError) as forged:
        RPCClient(master.url, "not-the-secret").match_done(worker, match.id, 1,
                                                           match_result(match))
    assert forged.value.errcode == 401
    assert raw_post(master, body, {}) == 401
    stale = f"{time.time() - 3600:.6f}"
    assert raw_post(master, body, {"X-Stechec-Timestamp": stale,
                                   "X-Stechec-Signature": sign(SECRET, stale, body)}) == 401
    assert_untouched(match)

    now = f"{time.time():.6f}"
    signed = {"X-Stechec-Timestamp": now, "X-Stechec-Signature": sign(SECRET, now, body)}
    assert raw_post(master, body, signed) == 200
    match.refresh_from_db()
    assert match.status == Match.Status.DONE
    MatchPlayer.objects.filter(match=match).update(score=None)
    assert raw_post(master, body, signed) == 401


def test_a_burst_of_duplicate_results_is_applied_once(running_match):
    """Copies of the applied result (a worker whose answer was lost sends it again) are
    answered true, as the first was, and change nothing."""
    match, worker, master, _ = running_match
    result = match_result(match)

    def send(_):
        return RPCClient(master.url, SECRET).match_done(worker, match.id, 1, result)

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(send, range(20)))

    assert outcomes == [True] * 20
    match.refresh_from_db()
    assert match.status == Match.Status.DONE
    assert all(mp.score == mp.id for mp in MatchPlayer.objects.filter(match=match))
    logs = master.logs()
    assert logs.count(f"match {match.id} attempt 1: done from 127.0.0.1:{worker[1]}") == 1
    assert logs.count(f"match {match.id} attempt 1: already applied; the same result again "
                      f"from 127.0.0.1:{worker[1]}") == 19
    assert "dropped" not in logs


def test_stale_unknown_finished_and_malformed_results_are_dropped(running_match):
    match, worker, master, _ = running_match
    client = RPCClient(master.url, SECRET)

    assert client.match_done(worker, match.id, 2, match_result(match, 100)) is False
    assert client.match_done(worker, match.id + 1000, 1, match_result(match, 100)) is False
    with pytest.raises(xmlrpc.client.Fault) as wrong_players:
        client.match_done(worker, match.id, 1, dict(match_result(match), players=[]))
    assert "not the match's" in wrong_players.value.faultString
    with pytest.raises(xmlrpc.client.Fault) as malformed:
        client.match_done(worker, match.id, 1, dict(match_result(match), status="won"))
    assert "result.status: expected one of done, failed" in malformed.value.faultString
    assert_untouched(match)

    assert client.match_done(worker, match.id, 1, match_result(match)) is True
    # Another result for the applied attempt is not a copy of it: dropped.
    assert client.match_done(worker, match.id, 1, match_result(match, 100)) is False
    assert client.match_done(worker, match.id, 1, dict(
        match_result(match), status="failed", reason="crashed")) is False
    assert all(mp.score == mp.id for mp in MatchPlayer.objects.filter(match=match))
    assert master.logs().count(f"match {match.id} attempt 1: done from") == 1


def test_logs_of_any_bytes_are_applied_with_their_scores(running_match):
    """Logs are bytes (the engine's colours, a champion's NULs): in base64, all 256 values
    reach the master, which applies the match, and applies nothing twice."""
    match, worker, master, _ = running_match
    every_byte = bytes(range(256))
    result = match_result(match)
    result["server_log"] = b"[\x1b[1;31mserver\x1b[0m] " + every_byte
    for player in result["players"]:
        player["log"] = every_byte + b"\xff\xfe\xc3\x28"
    client = RPCClient(master.url, SECRET)

    assert client.match_done(worker, match.id, 1, result) is True
    assert client.match_done(worker, match.id, 1, result) is True
    match.refresh_from_db()
    assert match.status == Match.Status.DONE
    assert all(mp.score == mp.id for mp in MatchPlayer.objects.filter(match=match))
    assert master.logs().count(f"match {match.id} attempt 1: done from") == 1


def test_a_reason_quoting_control_characters_is_stored_visible(running_match):
    """What XML cannot carry arrives visible (stechec.common.rpc.dumps), and so is what the
    database stores (PostgreSQL's text holds no NUL)."""
    match, worker, master, _ = running_match
    failed = dict(match_result(match), status="failed",
                  reason="the game server failed: \x1b[1;31merror\x1b[0m \x00")
    for player in failed["players"]:
        player["score"] = None
    assert RPCClient(master.url, SECRET).match_done(worker, match.id, 1, failed) is True
    match.refresh_from_db()
    assert (match.status, match.failure_reason) == (
        Match.Status.FAILED, r"the game server failed: \x1b[1;31merror\x1b[0m \x00")


def test_a_log_that_is_neither_bytes_nor_text_is_refused(running_match):
    match, worker, master, _ = running_match
    client = RPCClient(master.url, SECRET)
    bad = match_result(match)
    bad["players"][0]["log"] = 7
    with pytest.raises(xmlrpc.client.Fault) as refused:
        client.match_done(worker, match.id, 1, bad)
    assert refused.value.faultString == \
        "result.players[0].log: expected base64 (the log's bytes) or a string"
    assert_untouched(match)


def test_a_failed_match_sent_again_is_answered_true(running_match):
    match, worker, master, _ = running_match
    client = RPCClient(master.url, SECRET)
    failed = dict(match_result(match), status="failed", reason="the game server crashed")
    failed["players"][0]["score"] = None

    assert client.match_done(worker, match.id, 1, failed) is True
    assert client.match_done(worker, match.id, 1, failed) is True
    assert client.match_done(worker, match.id, 1, dict(failed, reason="another")) is False
    match.refresh_from_db()
    assert (match.status, match.failure_reason) == (Match.Status.FAILED,
                                                    "the game server crashed")
    logs = master.logs()
    assert logs.count(f"match {match.id} attempt 1: failed from") == 1
    assert logs.count(f"match {match.id} attempt 1: already applied") == 1


def test_platform_failures_are_retried_and_champion_errors_are_final(cluster, player):
    cluster.start_master()
    stuck = cluster.start_workers("stuck", slots=2, hold=True)
    [champion] = new_champions(player, 1)
    wait_for(lambda: stuck.events("received"), "the worker to get the champion")
    worker = ["127.0.0.1", int(stuck.names[0].split(":")[1]), 2, 2]
    client = RPCClient(cluster.master.url, SECRET)
    failed = {"status": "failed", "language": "", "log": "", "reason": "disk full"}

    assert client.compilation_result(worker, champion.id, 1, failed) is True
    wait_for(lambda: len(stuck.events("received")) == 2, "the second attempt")
    champion.refresh_from_db()
    assert (champion.status, champion.attempts) == (Champion.Status.PENDING, 2)
    assert champion.failure_reason == "disk full"

    error = {"status": "error", "language": "c", "log": b"main.c:1: \x1b[1merror\x00",
             "reason": "the build exited with status 2",
             "verdict": dict(VERDICT, exit_status=2)}
    assert client.compilation_result(worker, champion.id, 2, error) is True
    champion.refresh_from_db()
    assert (champion.status, champion.language) == (Champion.Status.ERROR, "c")
    assert champion.compile_verdict == dict(VERDICT, exit_status=2)


def test_verdicts_are_stored_and_a_malformed_one_is_refused(running_match):
    match, worker, master, _ = running_match
    client = RPCClient(master.url, SECRET)
    result = match_result(match)
    crashed = dict(VERDICT, ended="signal", exit_status=None, signal="SIGSEGV", turn_ms=1000,
                   turn=5)
    result["server_verdict"] = VERDICT
    for player in result["players"]:
        player["verdict"] = crashed

    for wrong, message in (({"ended": "exit"},
                            r"result\.players\[0\]\.verdict: 'signal' must be a string"),
                           (dict(VERDICT, ended="exploded"), "'ended' must be one of"),
                           (dict(VERDICT, cpu_ms="1"), "'cpu_ms' must be an integer"),
                           (dict(VERDICT, turn_ms="1000"), "'turn_ms' must be an integer"),
                           (dict(VERDICT, turn=0), "'turn' must be a positive integer"),
                           (dict(VERDICT, turn=True), "'turn' must be a positive integer")):
        bad = dict(result, players=[dict(result["players"][0], verdict=wrong),
                                    *result["players"][1:]])
        with pytest.raises(xmlrpc.client.Fault, match=message):
            client.match_done(worker, match.id, 1, bad)
    assert_untouched(match)

    assert client.match_done(worker, match.id, 1, result) is True
    match.refresh_from_db()
    assert match.server_verdict == VERDICT
    assert [p.verdict for p in match.players.all()] == [crashed] * len(result["players"])


def test_status_lists_workers_and_queue(cluster, player):
    cluster.start_master()
    before_workers = time.time()
    stuck = cluster.start_workers("stuck", slots=3, hold=True)
    [match] = new_matches(player, 1)
    wait_for(lambda: stuck.events("received"), "the worker to get the match")
    new_champions(player, 2)
    new_matches(player, 1)

    status = RPCClient(cluster.master.url, SECRET).status()

    [worker] = status["workers"]
    assert f"{worker['hostname']}:{worker['port']}" == stuck.names[0]
    assert (worker["free_slots"], worker["max_slots"]) == (0, 3)
    [running] = worker["running"]
    # How long it has run so far, for the status page.
    seconds = running.pop("seconds")
    assert 0 <= seconds <= time.time() - before_workers
    assert running == {"kind": "match", "id": match.id, "attempt": 1}
    assert before_workers < worker["last_heartbeat"] < time.time()
    assert status["queue"].pop("oldest_waiting_secs") >= 0  # not None: tasks wait
    assert status["queue"]["matches"] == {
        "new": {"player": 1, "tournament": 0, "background": 0}, "pending": 1}
    # The worker is full: the champions wait.
    assert status["queue"]["champions"] == {"new": 2, "pending": 0}
    assert status["throughput"] == {"minutes": 15, "compile": [0] * 15, "match": [0] * 15}


def test_status_counts_results_applied_in_the_last_minutes(cluster, player):
    cluster.start_master()
    ids = [c.id for c in new_champions(player, 3)]
    cluster.start_workers("pool", slots=2)
    wait_for(lambda: all_finished(Champion, ids, Champion.Status.READY), "the compilations")

    status = RPCClient(cluster.master.url, SECRET).status()

    throughput = status["throughput"]
    assert len(throughput["compile"]) == 15 and sum(throughput["compile"]) == 3
    assert sum(throughput["match"]) == 0
    assert status["queue"]["oldest_waiting_secs"] is None


def test_a_match_the_game_could_not_finish_fails_at_once_and_retryable_ones_retry(
        running_match):
    match, worker, master, stuck = running_match
    client = RPCClient(master.url, SECRET)
    crashed = dict(match_result(match), status="failed", reason="server crashed",
                   retryable=False)
    crashed["players"] = [dict(p, score=None, exit_status=-9) for p in crashed["players"]]

    assert client.match_done(worker, match.id, 1, dict(crashed, retryable=True)) is True
    # The worker still counts attempt 1 as running until the master cancels it, and
    # may refuse the next attempt meanwhile: that one is not a try, but its number is
    # not reused.
    wait_for(lambda: len(stuck.events("received")) == 2, "the second attempt")
    second = stuck.events("received")[1]["attempt"]
    assert second > 1
    assert client.match_done(worker, match.id, second, crashed) is True

    match.refresh_from_db()
    assert (match.status, match.failure_reason) == (Match.Status.FAILED, "server crashed")
    # A failed result not marked retryable (as older workers sent) is the platform's too.
    assert match.fault == Match.Fault.PLATFORM
    assert match.finished_at is not None
    assert set(MatchPlayer.objects.filter(match=match).values_list("score", "exit_status")) \
        == {(None, -9)}


def test_an_attempt_listed_while_its_result_is_answered_is_not_reported_as_stale(
        running_match, player):
    match, worker, master, stuck = running_match
    client = RPCClient(master.url, SECRET)
    assert client.match_done(worker, match.id, 1, match_result(match)) is True
    # The stuck worker goes on listing attempt 1, as a worker waiting for an answer does.
    wait_for(lambda: stuck.events("cancelled"), "the master to cancel it on the worker")
    [other] = new_matches(player, 1)
    wait_for(lambda: [e for e in stuck.events("received") if e["id"] == other.id],
             "the worker to get the next match")
    client.heartbeat(worker, False, [{"kind": "match", "id": other.id, "attempt": 7}])

    logs = master.logs()
    assert f"still lists match {match.id} attempt 1, whose result arrived" in logs
    assert f"runs match {match.id} attempt 1, which is not current" not in logs
    wait_for(lambda: f"runs match {other.id} attempt 7, which is not current; cancelling it"
             in master.logs(), "the stale attempt to be reported")
