"""The master's database connections dropped under load: it reconnects and loses nothing."""

import collections
import time

import pytest
from django.db import connection

from stechec.www.contest.models import Champion, Match, MatchPlayer

from .conftest import all_finished, new_champions, new_matches, wait_for


def terminate_other_backends():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
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
        dropped += terminate_other_backends()
        time.sleep(0.3)
    matches = [m.id for m in new_matches(player, 10)]

    wait_for(lambda: all_finished(Champion, champions, Champion.Status.READY) and
             all_finished(Match, matches, Match.Status.DONE), "every task to finish", 120)
    assert dropped >= 2
    logs = master.logs()
    assert "database unavailable (FATAL:  terminating connection" in logs
    assert "LISTEN stechec_tasks: connection lost" in logs
    applied = collections.Counter()
    for event in pool.events("reported"):
        applied[event["kind"], event["id"]] += event["applied"]
    assert max(applied.values()) == 1
    assert all(mp.score == mp.id for mp in MatchPlayer.objects.filter(match_id__in=matches))
