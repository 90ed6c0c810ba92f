"""Regression tests for the website's hostile input bugs.

A user registering as "..": Django's username rules allow "." and "..", and
the site stores a champion under `<game>/champions/<username>/<id>/`, so ".."
put its sources in `<game>/<id>/` (and every worker refused the user). A NUL
in a query string (the match list's author, the admin's list filters): a
server error on PostgreSQL.
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


@pytest.mark.parametrize("url", ["/matches/?author=ali%00ce",
                                 "/admin/stechec/match/?status__exact=%00"])
def test_a_nul_in_a_query_is_a_bad_request(client, db, url):
    """PostgreSQL refuses a NUL in a query: filters with one were server errors."""
    user = User.objects.create_user("organiser", password="x", is_staff=True,
                                    is_superuser=True)
    client.force_login(user)
    assert client.get(url).status_code == 400
    assert client.get(url.replace("%00", "x")).status_code == 200
