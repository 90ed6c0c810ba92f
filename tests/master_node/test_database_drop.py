"""The master's database connections dropped under load: it reconnects and loses nothing."""

import collections

import pytest
from django.db import connection

from stechec.contest.models import Champion, Match, MatchPlayer

from .conftest import all_finished, new_champions, new_matches, wait_for
from .pg_relay import PostgresRelay


def terminate_other_backends():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


def other_backends():
    """Connections to the test database but the test's own: the master's."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


def test_connections_dropped_under_load_lose_nothing(cluster, player):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no connection to drop (this runs in the PostgreSQL pass)")
    master = cluster.start_master()
    pool = cluster.start_workers("pool", count=3, slots=4, delay=0.2)
    champions = [c.id for c in new_champions(player, 60)]
    wait_for(lambda: len(pool.events("reported")) >= 5, "some results")

    dropped = 0
    for _ in range(3):
        # Each time, the connections the master opened again since the last.
        wait_for(other_backends, "the master to connect again")
        dropped += terminate_other_backends()
    matches = [m.id for m in new_matches(player, 10)]

    wait_for(lambda: all_finished(Champion, champions, Champion.Status.READY) and
             all_finished(Match, matches, Match.Status.DONE), "every task to finish", 120)
    assert dropped >= 3
    logs = master.logs()
    assert "database unavailable (FATAL:  terminating connection" in logs
    assert "LISTEN stechec_tasks: connection lost" in logs
    applied = collections.Counter()
    for event in pool.events("reported"):
        applied[event["kind"], event["id"]] += event["applied"]
    assert max(applied.values()) == 1
    assert all(mp.score == mp.id for mp in MatchPlayer.objects.filter(match_id__in=matches))


def test_a_claim_whose_commit_answer_is_lost_is_still_sent(cluster, player):
    """The claim's commit goes through but its answer is lost with the connection: the
    claimed tasks are `pending` for their workers, and the master sends them anyway."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no connection to drop (this runs in the PostgreSQL pass)")
    settings = connection.settings_dict
    relay = PostgresRelay(settings["HOST"], int(settings["PORT"]))
    try:
        relay.lose_commit_answer(b"SET status = 'pending'")
        master = cluster.start_master(sql_port=relay.port)
        pool = cluster.start_workers("pool", slots=4)
        champions = [c.id for c in new_champions(player, 3)]

        wait_for(lambda: all_finished(Champion, champions, Champion.Status.READY),
                 "every champion to be compiled", 60)
    finally:
        relay.close()
    assert relay.answers_lost == 1
    assert "were claimed by a commit whose answer was lost" in master.logs()
    received = pool.events("received")
    assert sorted(e["id"] for e in received) == sorted(champions)
    assert {e["attempt"] for e in received} == {1}
