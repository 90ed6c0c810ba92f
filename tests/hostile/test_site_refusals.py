"""Regression tests for the website's hostile input bugs.

A user registering as "..": Django's username rules allow "." and "..", and
the site stores a champion under `<game>/champions/<username>/<id>/`, so ".."
put its sources in `<game>/<id>/` (and every worker refused the user). A NUL
in the match list's author filter: a server error on PostgreSQL.
"""

import copy

import pytest
from django.contrib.auth.models import User
from django.urls import reverse


@pytest.mark.parametrize("username", [".", ".."])
def test_registration_refuses_dot_names(client, settings, db, username):
    settings.STECHEC = copy.deepcopy(settings.STECHEC)
    settings.STECHEC["website"]["self_registration"] = True
    response = client.post(reverse("register"), {
        "username": username, "email": "n@example.org",
        "password1": "a long enough passphrase", "password2": "a long enough passphrase"})
    assert response.status_code == 200
    assert "This name is reserved." in response.content.decode()
    assert not User.objects.filter(username=username).exists()


def test_a_nul_in_the_match_list_author_filter_finds_nothing(client, db):
    """PostgreSQL refuses a NUL in a query: the page was a server error."""
    user = User.objects.create_user("alice", password="alice-password")
    client.force_login(user)
    response = client.get(reverse("match-list"), {"author": "ali\x00ce"})
    assert response.status_code == 200
