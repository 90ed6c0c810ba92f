"""The whole cluster as real processes on the test database, and players talking HTTP to it.

`cluster` starts a LocalCluster (gunicorn, master-node, two worker-nodes,
as tools/run-local does) once per test module, on the database the test
run made (SQLite file or PostgreSQL database), with accounts for `PLAYERS`.
When the module is done it stops every process and empties the database,
so that the suite's other tests find it as they expect. Its tests are
marked `django_db(transaction=True)` (which has pytest-django make the test
database; a transaction of the test's own would hold SQLite's lock) but
only talk HTTP.
"""

import contextlib
import os
import random
import time

import pytest
from django.core.management import call_command
from django.db import connection, connections

from devtools.contest_data import sql_section
from stechec.local.cluster import LocalCluster
from tests.e2e.client import PlayerSession

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(ROOT, "share", "champions", "tictactoe")
PLAYERS = ("alice", "bob", "carol")
# Generous: other suites share this machine's two cores.
WAIT_SECS = 120


def wait_for(cluster, condition, what, timeout=WAIT_SECS, interval=0.5):
    """condition()'s first true value; on timeout, fail with the tail of every daemon's log."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "".join(f"\n--- {service.name}:\n{service.log_tail(30)}"
                           for service in cluster.supervisor.services)
            raise AssertionError(f"timed out after {timeout} s waiting for {what}{logs}")
        time.sleep(interval)


def password_of(username):
    return f"{username}-e2e-password"


CREATE_ACCOUNTS = """
from django.contrib.auth.models import User
for name, password in {passwords!r}.items():
    User.objects.create_user(name, password=password)
"""


@contextlib.contextmanager
def running_cluster(django_db_blocker, var_dir, *, workers=2, **settings):
    """A started LocalCluster on the test database with accounts for PLAYERS (`settings`
    go to LocalCluster); stopped, and the database emptied, on leaving."""
    # Sandbox user ids of their own, so that parallel runs never kill each other's programs.
    first_uid = 400000 + random.randrange(1000) * 2000
    with django_db_blocker.unblock():
        local = LocalCluster(var_dir, sql=sql_section(connection), workers=workers,
                             first_uid=first_uid, **settings)
        local.write_configs()
        connections.close_all()
        try:
            # As an organiser would, in the site's own settings (its password hashers).
            local.manage("shell", "-c", CREATE_ACCOUNTS.format(
                passwords={name: password_of(name) for name in PLAYERS}))
            local.start()
            local.wait_for_workers(workers)
            yield local
        finally:
            local.stop()
            call_command("flush", "--no-input", verbosity=0)
            connections.close_all()


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory):
    with running_cluster(django_db_blocker, tmp_path_factory.mktemp("cluster"),
                         slots=6) as local:
        yield local


@pytest.fixture
def session(cluster):
    """A function returning a logged-in PlayerSession for a player's name."""
    def log_in(username):
        player = PlayerSession(cluster.url)
        player.log_in(username, password_of(username))
        return player
    return log_in


# Where the browser journeys' screenshots go (kept by CI).
ARTIFACTS = os.path.join(ROOT, "test-artifacts", "e2e")


@pytest.fixture
def page(cluster, monkeypatch):
    """A headless Chromium page for the browser journeys on the module's cluster."""
    from tests.browser import chromium_page

    os.makedirs(ARTIFACTS, exist_ok=True)
    with chromium_page(monkeypatch) as page:
        yield page
