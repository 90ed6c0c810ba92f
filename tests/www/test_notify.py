"""Work created from the site wakes the master (PostgreSQL NOTIFY at commit)."""

import select
import time

import psycopg2
import pytest
from django.db import connection, transaction
from django.urls import reverse

from stechec.common.database import NOTIFY_CHANNEL, OPERATIONS_CHANNEL
from stechec.contest import operations
from stechec.contest.models import Champion
from tests.www.helpers import make_tgz, ready_champion, upload_file

pytestmark = pytest.mark.django_db(transaction=True)
# Notified by the test itself after what it checks (see notifications()).
MARKER = "stechec_test_marker"


@pytest.fixture
def listener():
    if connection.vendor != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's (the master polls SQLite); the PostgreSQL pass "
                    "of ./tools/run-tests runs this test")
    settings = connection.settings_dict
    listening = psycopg2.connect(host=settings["HOST"], port=settings["PORT"],
                                 user=settings["USER"], password=settings["PASSWORD"],
                                 dbname=settings["NAME"], connect_timeout=30)
    listening.autocommit = True
    with listening.cursor() as cursor:
        cursor.execute(f"LISTEN {NOTIFY_CHANNEL}")
        cursor.execute(f"LISTEN {OPERATIONS_CHANNEL}")
        cursor.execute(f"LISTEN {MARKER}")
    yield listening
    listening.close()


def notifications(listening):
    """The channels notified since the last call, in order: those before a marker the test
    notifies now. PostgreSQL delivers notifications in the order their transactions
    committed, so whatever was committed before is there, however long it took to come."""
    with connection.cursor() as cursor:
        cursor.execute(f"NOTIFY {MARKER}")
    received = []
    deadline = time.monotonic() + 60
    while MARKER not in received:
        assert time.monotonic() < deadline, "timed out after 60 s waiting for the marker"
        select.select([listening], [], [], 1)
        listening.poll()
        received += [notify.channel for notify in listening.notifies]
        listening.notifies.clear()
    return received[:received.index(MARKER)]


def test_an_upload_and_a_match_each_notify_the_master(listener, alice_client, alice):
    response = alice_client.post(reverse("champion-new"), {"name": "n",
                                                           "sources": upload_file(make_tgz())})
    assert response.status_code == 302
    assert notifications(listener) == [NOTIFY_CHANNEL]

    champion = ready_champion(alice)
    response = alice_client.post(reverse("match-new"), {"champion_1": champion.pk,
                                                        "champion_2": champion.pk})
    assert response.status_code == 302
    assert notifications(listener) == [NOTIFY_CHANNEL]


def test_a_refused_request_notifies_nothing(listener, alice_client, alice, site):
    site["website"]["matches_in_flight_per_user"] = 1
    champion = ready_champion(alice)
    data = {"champion_1": champion.pk, "champion_2": champion.pk}
    assert alice_client.post(reverse("match-new"), data).status_code == 302
    assert notifications(listener) == [NOTIFY_CHANNEL]

    assert alice_client.post(reverse("match-new"), data).status_code == 200
    assert notifications(listener) == []


def test_any_writer_making_a_task_new_notifies_and_nothing_else_does(listener, alice):
    champion = ready_champion(alice)
    table = connection.ops.quote_name(champion._meta.db_table)

    def update(status):
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET status = %s WHERE id = %s",
                           [status, champion.pk])

    update("error")
    assert notifications(listener) == []
    # As a script or the master putting an attempt back would.
    update("new")
    assert notifications(listener) == [NOTIFY_CHANNEL]
    update("pending")
    assert notifications(listener) == []


def test_a_rolled_back_task_notifies_nothing(listener, alice):
    with pytest.raises(RuntimeError), transaction.atomic():
        Champion.queue_for_compilation(name="never", author=alice)
        raise RuntimeError("the upload failed half-way")
    assert notifications(listener) == []


def test_an_operator_action_notifies_the_master_at_commit(listener, alice):
    operations.pause("orga")
    assert notifications(listener) == [OPERATIONS_CHANNEL]
    # A cancel that finds no match to cancel records nothing, and notifies nothing.
    with pytest.raises(ValueError):
        operations.cancel_match("orga", 12345)
    assert notifications(listener) == []
