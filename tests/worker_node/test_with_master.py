"""A real worker process with a real master-node, through a relay that fails like a network:
a lost answer to an applied result, and results held up by an outage, sent together."""

from django.contrib.auth.models import User
from django.db import transaction

from devtools import hostile_champions
from stechec.common import paths
from stechec.contest.models import Champion, Match, MatchPlayer
from tests.worker_node.conftest import (
    C_CHAMPION,
    C_PLAY_LOOP,
    PYTHON_CHAMPION,
    wait_for,
)


def _queue_champions(worker, author, sources):
    """New champions with their sources, committed together as the site would one each."""
    with transaction.atomic():
        champions = []
        for i, files in enumerate(sources):
            champion = Champion.queue_for_compilation(name=f"champion {i}", author=author)
            worker.upload(author.username, champion.id, files)
            champions.append(champion)
    return champions


def _statuses(model, objects):
    return sorted(model.objects.filter(pk__in=[o.pk for o in objects])
                  .values_list("status", flat=True))


def test_a_lost_answer_gets_true_again_and_the_files_stay(cluster):
    master, relay, worker = cluster()
    relay.lose_answers("compilation_result")
    author = User.objects.create_user("alice")
    [champion] = _queue_champions(worker, author, [{"prologin.c": C_CHAMPION}])

    what = f"champion {champion.id} attempt 1"
    wait_for(lambda: f"{what}: result delivered" in worker.log(), "the result to be delivered")
    worker.wait_idle()
    # The master got the result twice: it applied the first, answered the second true.
    first, again = relay.calls_of("compilation_result")
    assert first == again
    champion.refresh_from_db()
    assert (champion.status, champion.attempts) == (Champion.Status.READY, 1)
    logs = master.logs()
    assert logs.count(f"{what}: ready from") == 1
    assert logs.count(f"{what}: already applied") == 1
    assert "dropped" not in logs
    assert "dropped the result" not in worker.log()
    published = worker.champion_outputs("alice", champion.id)
    assert published == worker.champion_dir("alice", champion.id) / "attempt-1"
    assert (published / paths.CHAMPION_COMPILED).exists()
    assert "Compilation succeeded." in (published / paths.COMPILATION_LOG).read_text()


def test_tasks_come_in_run_tasks_and_results_of_an_outage_go_in_one_call(cluster):
    # The master keeps the worker through the outage: its results are not stale.
    master, relay, worker = cluster({"worker": {"available_slots": 8}}, timeout_secs=600.0)
    author = User.objects.create_user("alice")
    relay.cut()
    wait_for(lambda: "cannot be reached" in worker.log(), "the worker to notice the outage")
    champions = _queue_champions(worker, author, [{"prologin.c": C_CHAMPION},
                                                  {"champion.py": PYTHON_CHAMPION},
                                                  {"prologin.c": C_CHAMPION}])
    wait_for(lambda: "run_tasks: 3 tasks" in worker.log(), "the three tasks in one call")
    wait_for(lambda: all(f"champion {c.id} attempt 1: ready" in worker.log()
                         for c in champions), "the three compilations")
    relay.mend()

    wait_for(lambda: _statuses(Champion, champions) == ["ready"] * 3, "the results applied")
    [(sent_by, results)] = relay.calls_of("task_results")
    assert sent_by[:2] == ["127.0.0.1", worker.port]
    assert sorted(r["id"] for r in results) == sorted(c.id for c in champions)
    assert not relay.calls_of("compilation_result")
    assert "is back after" in worker.log()

    # Two matches placed together: one run_tasks call, and the worker unpacks the compiled
    # champions from their published attempts.
    with transaction.atomic():
        matches = [Match.launch(champions[:2], author=author),
                   Match.launch(champions[1:], author=author)]
    wait_for(lambda: "run_tasks: 2 tasks" in worker.log(), "the two matches in one call")
    wait_for(lambda: _statuses(Match, matches) == ["done"] * 2, "the matches to be done")
    worker.wait_idle()
    for match in matches:
        published = worker.match_dir(match.id)
        assert published.name == "attempt-1"
        assert "score:" in (published / paths.SERVER_LOG).read_text()
    logs = master.logs()
    assert "has no run_tasks" not in logs
    assert sum(logs.count(f"match {m.id} attempt 1: done from") for m in matches) == 2


def test_a_task_the_worker_refuses_fails_alone_and_the_worker_stays(cluster):
    master, relay, worker = cluster({"worker": {"available_slots": 4}}, max_task_tries=2)
    alice = User.objects.create_user("alice")
    # The site never makes such a name; a database edited by hand can.
    bad = User.objects.create_user("bad/name")
    relay.cut()
    wait_for(lambda: "cannot be reached" in worker.log(), "the worker to notice the outage")
    with transaction.atomic():
        good = Champion.queue_for_compilation(name="good", author=alice)
        worker.upload("alice", good.id, {"prologin.c": C_CHAMPION})
        refused = Champion.queue_for_compilation(name="refused", author=bad)
    relay.mend()

    wait_for(lambda: _statuses(Champion, [good, refused]) == ["failed", "ready"],
             "the good champion ready and the refused one failed")
    refused.refresh_from_db()
    assert refused.attempts == 2
    logs = master.logs()
    [name] = {line.split("refused by worker ")[1].split(":")[0]
              for line in logs.splitlines() if "refused by worker" in line}
    assert refused.failure_reason == (
        f"gave up after 2 attempts; last: refused by worker {name}:{worker.port}: "
        "task.user: not a valid user name")
    assert "sending each alone" in logs
    assert "unreachable" not in logs and "dropping the worker" not in logs
    assert f"champion {good.id} attempt 1: ready from" in logs


def test_a_champion_printing_any_bytes_does_not_void_its_match(cluster):
    """NUL, ESC and invalid UTF-8 in its compilation log and its match's log: the master
    applies both results, the match done with its scores."""
    master, _relay, worker = cluster()
    author = User.objects.create_user("mallory")
    source = hostile_champions.sources(C_PLAY_LOOP, outside=[], port=9,
                                       port_owner="nobody")["control bytes"]
    champions = _queue_champions(worker, author, [{"prologin.c": source},
                                                  {"prologin.c": C_CHAMPION}])
    wait_for(lambda: _statuses(Champion, champions) == ["ready"] * 2, "the compilations")

    with transaction.atomic():
        match = Match.launch(champions, author=author)
    wait_for(lambda: _statuses(Match, [match]) == ["done"], "the match to be done")
    assert sorted(MatchPlayer.objects.filter(match=match).values_list(
        "score", "nb_timeout")) == [(21, 0), (21, 0)]
    [bytes_player] = MatchPlayer.objects.filter(match=match, champion=champions[0])
    log = worker.match_dir(match.id) / paths.player_log_name(bytes_player.id, champions[0].id)
    assert hostile_champions.PRINTED_BYTES in log.read_bytes()
    assert "refused" not in master.logs() and "refused" not in worker.log()
