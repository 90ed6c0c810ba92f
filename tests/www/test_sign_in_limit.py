"""Password guesses are limited by user name, on the sign-in page and the API alike.

Time passing is made by moving the recorded failures back, not by waiting.
"""

import base64
import datetime
import json

import pytest
from django.test import Client
from django.urls import reverse

from stechec.contest.models import ApiToken, SignInFailure
from tests.www.helpers import text

pytestmark = pytest.mark.django_db


def sign_in(password, username="alice"):
    client = Client()
    return client, client.post(reverse("login"), {"username": username, "password": password})


def api_token(password, username="alice"):
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    return Client().post(reverse("api-tokens"), json.dumps({"name": "cli", "scopes": ["read"]}),
                         content_type="application/json",
                         HTTP_AUTHORIZATION=f"Basic {credentials}")


def signed_in(client):
    return "_auth_user_id" in client.session


@pytest.fixture
def limit(site):
    site["website"].update(sign_in_failures=3, sign_in_window_minutes=10)


def test_after_the_limit_even_the_right_password_is_refused_until_the_window_passes(
        alice, limit):
    for _ in range(3):
        client, page = sign_in("guess")
        assert not signed_in(client)
        assert "Please enter a correct" in text(page)

    client, page = sign_in("alice-password")
    assert not signed_in(client)
    assert "3 failed sign-ins for this user name in the last 10 minutes" in text(page)
    assert "You may try again in" in text(page)

    # The oldest failure leaves the window: one try is free again.
    oldest = SignInFailure.objects.order_by("ts").first()
    SignInFailure.objects.filter(pk=oldest.pk).update(
        ts=oldest.ts - datetime.timedelta(minutes=10))
    client, _ = sign_in("alice-password")
    assert signed_in(client)
    # A success forgets the user name's failures.
    assert not SignInFailure.objects.filter(username="alice").exists()


def test_the_api_counts_the_same_failures_and_says_when_to_retry(alice, limit):
    for _ in range(2):
        sign_in("guess")
    assert api_token("guess").status_code == 401
    # Case does not make another user name to guess with.
    refused = api_token("alice-password", username="ALICE")

    assert refused.status_code == 429
    assert "3 failed sign-ins" in refused.json()["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 600
    assert not ApiToken.objects.exists()
    client, page = sign_in("alice-password")
    assert not signed_in(client)


def test_one_user_names_failures_do_not_lock_another_out(alice, bob, limit):
    for _ in range(3):
        sign_in("guess")
    client, _ = sign_in("bob-password", username="bob")
    assert signed_in(client)
    assert api_token("bob-password", username="bob").status_code == 201


def test_failures_that_no_longer_count_are_deleted(alice, limit):
    sign_in("guess", username="nobody")
    SignInFailure.objects.update(ts=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    sign_in("guess")
    assert list(SignInFailure.objects.values_list("username", flat=True)) == ["alice"]


def test_a_user_name_longer_than_any_is_refused_and_counted(alice, limit):
    client, page = sign_in("guess", username="a" * 5000)
    assert page.status_code == 200 and not signed_in(client)
    assert "Please enter a correct" in text(page)
    assert SignInFailure.objects.get().username == "a" * 150


def test_a_wrong_old_password_on_the_password_change_counts_as_a_failed_sign_in(
        alice_client, limit):
    def change(old_password):
        return alice_client.post(reverse("password_change"), {
            "old_password": old_password, "new_password1": "a new long secret 42",
            "new_password2": "a new long secret 42"})

    for _ in range(3):
        assert "Your old password was entered incorrectly" in text(change("guess"))
    page = change("alice-password")
    assert "3 failed sign-ins for this user name in the last 10 minutes" in text(page)
    assert sign_in("alice-password")[1].status_code == 200
