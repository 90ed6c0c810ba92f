"""Creating a match never waits for the master rating matches of the same champions.

The master locks the champions whose ratings it moves until its transaction ends, and a
batch of results may rate several matches in one transaction; a new match's players lock
the same champions (key share, for their foreign keys) as they are inserted. When the
master's lock blocked those, the two could wait for each other (a batch holding B while
rating a match of A, a player's match holding A and waiting for B), and PostgreSQL
aborted one of them: a player's 500 on /matches/new/, or a batch the master retried.
"""

import threading

import pytest
from django.db import connection, transaction

from stechec.contest.champion_ratings import lock_for_rating
from stechec.contest.models import Match
from tests.conftest import wait_for
from tests.www.helpers import ready_champion

pytestmark = pytest.mark.django_db(transaction=True)

WAITING_ON_A_LOCK = """
    SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
    AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
"""


def in_a_thread(function):
    """Run `function` on a connection of its own; its outcome: {"value": ...} or
    {"error": ...}, filled when it ends."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function()
        except Exception as e:  # reported by the test's assertions
            outcome["error"] = e
        finally:
            connection.close()
    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def waiting_on_a_lock():
    with connection.cursor() as cursor:
        cursor.execute(WAITING_ON_A_LOCK)
        return cursor.fetchone()[0] > 0


def test_a_match_is_created_while_the_master_holds_its_champions_for_rating(alice, bob):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite has one writer at a time); the "
                    "PostgreSQL pass of ./tools/run-tests runs this test")
    first, second = ready_champion(alice), ready_champion(bob)
    held, release = threading.Event(), threading.Event()

    def rate():
        with transaction.atomic():
            lock_for_rating([first.pk, second.pk])
            held.set()
            release.wait(120)
    rater, rated = in_a_thread(rate)
    try:
        assert held.wait(120), rated.get("error")
        creator, created = in_a_thread(lambda: Match.launch([second, first]))
        # Either it is created, or it waits for the rater's lock (the bug): the test then
        # fails at once instead of waiting for the rater.
        wait_for(lambda: created or waiting_on_a_lock(), "the match's creation to end")
        assert "value" in created, created.get("error") or \
            "creating the match waited for the master's rating lock"
    finally:
        release.set()
        rater.join(120)
    creator.join(120)
    assert "error" not in rated, rated["error"]
    assert [p.champion_id for p in created["value"].players.order_by("id")] == \
        [second.pk, first.pk]
