"""Password reset mails are limited by address, whoever asks and whether or not the
address is anyone's: the reset page cannot be made to flood a mailbox.

Time passing is made by moving the recorded requests back, not by waiting.
"""

import datetime

import pytest
from django.urls import reverse

from stechec.contest.models import PasswordResetRequest
from tests.www.helpers import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit(site):
    site["website"]["password_resets_per_hour"] = 2


def ask(client, email):
    return client.post(reverse("password_reset"), {"email": email})


def test_past_the_limit_no_mail_goes_and_the_page_says_when_to_ask_again(
        client, alice, limit, mailoutbox):
    alice.email = "alice@example.org"
    alice.save()
    for _ in range(2):
        assert ask(client, "alice@example.org")["Location"] == reverse("password_reset_done")
    page = ask(client, "Alice@Example.org")
    assert page.status_code == 200
    assert "2 password reset mails were asked for this address in the last hour" in text(page)
    assert "You may ask again in" in text(page)
    assert len(mailoutbox) == 2

    PasswordResetRequest.objects.update(ts=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    assert ask(client, "alice@example.org")["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 3
    # Requests that no longer count are deleted as new ones come.
    assert PasswordResetRequest.objects.count() == 1


def test_an_address_nobody_has_is_limited_alike(client, limit, mailoutbox):
    for _ in range(2):
        assert ask(client, "nobody@example.org")["Location"] == reverse("password_reset_done")
    assert "password reset mails were asked" in text(ask(client, "nobody@example.org"))
    assert ask(client, "other@example.org")["Location"] == reverse("password_reset_done")
    assert mailoutbox == []
