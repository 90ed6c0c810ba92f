"""Creating a match while the master rates one of the same champions cannot deadlock.

The master locks a finished match's champions for update in id order; a new match's players
lock the same rows (key share) as they are inserted. Were those taken in seat order, a match
seated (B, A) created while the master held A and went on to B would deadlock, and PostgreSQL
would abort one of the two: a player's 500, or a result the master must retry.
"""

import threading

import psycopg2
import pytest
from django.db import connection

from stechec.contest.models import Match
from tests.conftest import wait_for
from tests.www.helpers import ready_champion

pytestmark = pytest.mark.django_db(transaction=True)

WAITING_ON_A_LOCK = """
    SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
    AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
"""


@pytest.fixture
def master_connection():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite has one writer at a time); the "
                    "PostgreSQL pass of ./tools/run-tests runs this test")
    settings = connection.settings_dict
    master = psycopg2.connect(host=settings["HOST"], port=settings["PORT"],
                              user=settings["USER"], password=settings["PASSWORD"],
                              dbname=settings["NAME"], connect_timeout=30)
    yield master
    master.close()


def test_a_match_created_in_reverse_id_order_while_the_master_locks_its_champions(
        master_connection, alice, bob):
    first, second = ready_champion(alice), ready_champion(bob)
    assert first.pk < second.pk
    lock = "SELECT id FROM stechec_champion WHERE id = %s FOR UPDATE"
    with master_connection.cursor() as master:
        master.execute(lock, [first.pk])

        outcome = {}

        def create():
            try:
                outcome["match"] = Match.launch([second, first])
            except Exception as e:  # reported by the assertion below
                outcome["error"] = e
            finally:
                connection.close()

        creator = threading.Thread(target=create)
        creator.start()

        def creator_waits():
            # Not on the master's connection: inside a transaction, pg_stat_activity is read
            # once and not again.
            with connection.cursor() as probe:
                probe.execute(WAITING_ON_A_LOCK)
                return probe.fetchone()[0] > 0
        wait_for(creator_waits, "the match's creation to wait for the master's lock")
        # Without one lock order, this waits for the creator, which waits for it: PostgreSQL
        # aborts one of them after deadlock_timeout.
        master.execute(lock, [second.pk])
        master_connection.commit()
    creator.join(timeout=60)
    assert not creator.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert [p.champion_id for p in outcome["match"].players.order_by("id")] == \
        [second.pk, first.pk]
