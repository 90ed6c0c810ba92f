"""Regression test: a user registering as ".." put their champions outside the champions tree.

Django's username rules allow "." and ".."; the site stores a champion under
`<game>/champions/<username>/<id>/`, so ".." put its sources in `<game>/<id>/`
(and every worker refused the user: the champion never compiled).
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
