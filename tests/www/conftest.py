"""Fixtures for the website's tests: users, a fresh shared directory, archives."""

import copy
import json
import os
import subprocess
import sys

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from tests.www.webhook_receiver import Receiver


@pytest.fixture(autouse=True, scope="session")
def static_root():
    """collectstatic's target exists on a deployed site; whitenoise warns without it."""
    from django.conf import settings
    os.makedirs(settings.STATIC_ROOT, exist_ok=True)


@pytest.fixture(autouse=True)
def english_afterwards():
    """A French request leaves French active in the test's thread (LocaleMiddleware does not
    deactivate it): the next test starts in the default language, as a new request would."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def site(settings, tmp_path):
    """website.yml as the site sees it, with a shared directory of this test's own.

    Change it in place (site["website"]["page_size"] = 2): it is restored afterwards.
    """
    settings.STECHEC = copy.deepcopy(settings.STECHEC)
    settings.STECHEC["contest"]["directory"] = str(tmp_path / "shared")
    return settings.STECHEC


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice", password="alice-password")


@pytest.fixture
def bob(db):
    return User.objects.create_user("bob", password="bob-password")


@pytest.fixture
def receivers():
    """receivers(answers) -> a started webhook_receiver.Receiver, closed afterwards."""
    made = []

    def make(answers=()):
        made.append(Receiver(answers))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def staff(db):
    return User.objects.create_user("orga", password="orga-password", is_staff=True,
                                    is_superuser=True)


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(client, alice):
    return client_for(client, alice)


@pytest.fixture
def fake_master(site):
    """Start a stand-in master on a free loopback port; yields a function setting it up."""
    processes = []

    def start(document, secret=None):
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.www.fake_master",
             secret or site["master"]["shared_secret"], json.dumps(document)],
            stdout=subprocess.PIPE, text=True)
        processes.append(process)
        port = int(process.stdout.readline())
        site["master"].update(host="127.0.0.1", port=port, timeout_secs=30.0)
        return port

    yield start
    for process in processes:
        process.kill()
        process.wait(timeout=30)


@pytest.fixture
def browser_page(live_server, monkeypatch):
    """A headless Chromium page for the browser journeys (test_browser*.py)."""
    from django.db import connections

    from tests.browser import chromium_page
    from tests.www.test_browser import ARTIFACTS

    # (After live_server, so that the browser closes before the server stops.)
    os.makedirs(ARTIFACTS, exist_ok=True)
    with chromium_page(monkeypatch) as page:
        try:
            yield page
        finally:
            # While Playwright's loop runs, the test's ORM calls get a database
            # connection of their own (Django's connections are per context);
            # close it here, or PostgreSQL cannot drop the test database.
            connections.close_all()
