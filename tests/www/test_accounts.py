"""Accounts: password change and reset, mail settings, accounts in bulk from a CSV file."""

import io
import os
import re

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from stechec.common import config
from stechec.contest.models import Champion, Match, shown_name
from stechec.www import siteconfig
from tests.www.helpers import ready_champion, text

pytestmark = pytest.mark.django_db

SAMPLE = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "share", "website.yml")


def logs_in(username, password):
    return Client().login(username=username, password=password)


def test_a_player_changes_her_password(alice_client):
    assert f'href="{reverse("account")}"' in text(alice_client.get(reverse("home")))
    assert f'href="{reverse("password_change")}"' in text(alice_client.get(reverse("account")))

    response = alice_client.post(reverse("password_change"), {
        "old_password": "alice-password", "new_password1": "a new long secret 42",
        "new_password2": "a new long secret 42"})

    assert response["Location"] == reverse("password_change_done")
    assert "Your password was changed" in text(alice_client.get(response["Location"]))
    assert logs_in("alice", "a new long secret 42") and not logs_in("alice", "alice-password")


def test_a_forgotten_password_is_reset_through_a_mailed_link(client, alice, mailoutbox):
    alice.email = "alice@example.org"
    alice.save()
    assert reverse("password_reset") in text(client.get(reverse("login")))

    response = client.post(reverse("password_reset"), {"email": "alice@example.org"})
    assert response["Location"] == reverse("password_reset_done")
    client.post(reverse("password_reset"), {"email": "nobody@example.org"})

    [mail] = mailoutbox
    assert mail.to == ["alice@example.org"] and mail.subject == "Stechec2: choose a new password"
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in text(form)
    response = client.post(form.redirect_chain[-1][0], {
        "new_password1": "reset and long 1234", "new_password2": "reset and long 1234"})
    assert response["Location"] == reverse("password_reset_complete")
    assert logs_in("alice", "reset and long 1234")
    assert "This link is not valid any more" in text(client.get(link, follow=True))


def test_mails_go_through_the_configured_backend():
    with open(SAMPLE) as f:
        sample = f.read().replace("debug: false", "debug: true")

    def settings_of(mail):
        site = config.parse(sample.replace("  backend: console\n  file_path:\n", mail),
                            "website.yml", siteconfig.WEBSITE_SCHEMA, debug_key="website.debug")
        siteconfig.check_files(site, "website.yml")
        return siteconfig.django_settings(site)

    assert settings_of("  backend: console\n  file_path:\n")["EMAIL_BACKEND"] == \
        "django.core.mail.backends.console.EmailBackend"
    chosen = settings_of("  backend: file\n  file_path: /var/mail/stechec\n")
    assert chosen["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert chosen["EMAIL_FILE_PATH"] == "/var/mail/stechec"
    with pytest.raises(config.ConfigError, match="mail.file_path: the file backend needs"):
        settings_of("  backend: file\n  file_path:\n")
    with pytest.raises(config.ConfigError, match="mail.backend"):
        settings_of("  backend: pigeon\n  file_path:\n")


def create_accounts(tmp_path, csv_text, *args):
    path = tmp_path / "accounts.csv"
    path.write_text(csv_text)
    out = io.StringIO()
    call_command("create_accounts", str(path), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_creates_accounts_and_prints_their_passwords(tmp_path, mailoutbox):
    printed = create_accounts(tmp_path, "email,username,team\n"
                                        "ann@example.org,ann,red\n\n"
                                        "ben@example.org, ben ,blue\n", "--mail")

    lines = printed.splitlines()
    assert lines[0] == "username,email,password"
    passwords = dict(line.split(",")[::2] for line in lines[1:])
    assert list(passwords) == ["ann", "ben"]
    assert passwords["ann"] != passwords["ben"] and len(passwords["ann"]) >= 12
    assert all(logs_in(name, password) for name, password in passwords.items())
    assert User.objects.get(username="ben").email == "ben@example.org"
    assert [mail.to for mail in mailoutbox] == [["ann@example.org"], ["ben@example.org"]]
    assert passwords["ann"] in mailoutbox[0].body


def test_a_file_with_bad_lines_creates_nothing_and_names_them_all(tmp_path, alice):
    with pytest.raises(CommandError) as refused:
        create_accounts(tmp_path, "username,email\n"
                                  "ok,ok@example.org\n"
                                  "alice,alice@example.org\n"
                                  "bad name,x@example.org\n"
                                  "ok,again@example.org\n"
                                  "..,dots@example.org\n"
                                  "nomail,not-an-address\n"
                                  "short\n")
    message = str(refused.value)
    assert "nothing created" in message
    for problem in ("line 3: an account named alice exists already", "line 4: the name 'bad name'",
                    "line 5: ok is already on line 2", "line 6: the name '..': This name is "
                    "reserved", "line 7: 'not-an-address' is not an email address",
                    "line 8: 1 columns"):
        assert problem in message
    assert list(User.objects.values_list("username", flat=True)) == ["alice"]
    with pytest.raises(CommandError, match="the first line must name the columns, among "
                                           "them email"):
        create_accounts(tmp_path, "username\nann\n")


def test_staff_create_accounts_from_the_page(client, alice, staff, mailoutbox):
    def upload(data, **fields):
        return client.post(reverse("accounts-bulk"), {
            "accounts": SimpleUploadedFile("accounts.csv", data, "text/csv"), **fields})

    client.force_login(alice)
    assert client.get(reverse("accounts-bulk")).status_code == 403
    client.force_login(staff)
    assert reverse("accounts-bulk") in text(client.get(reverse("home")))

    response = upload(b"\xef\xbb\xbfusername,email\ncat,cat@example.org\n", mail="on")
    assert "no-store" in response["Cache-Control"]
    page = text(response)
    password = re.search(r'<td>cat</td><td>cat@example.org</td><td class="mono">([^<]+)</td>',
                         page).group(1)
    assert logs_in("cat", password) and "1 mails sent." in page
    assert password in mailoutbox[0].body
    page = text(upload(b"username,email\ncat,cat@example.org\n"))
    assert "Nothing was created: line 2: an account named cat exists already." in page
    assert "The file is not UTF-8 text." in text(upload(b"username,email\n\xff\n"))


def test_a_display_name_is_shown_for_the_player_and_cannot_be_another_s(alice_client, alice,
                                                                        bob, staff):
    champion = ready_champion(alice, "mine")
    Champion.objects.filter(pk=champion.pk).update(rated_games=1)

    for taken in ("BOB", "orga"):
        page = text(alice_client.post(reverse("account"), {"display_name": taken}))
        assert f"{taken!r} is another player's name." in page
    response = alice_client.post(reverse("account"), {"display_name": "Alice the Great"})
    assert response["Location"] == reverse("account")

    for url in (reverse("leaderboard"), reverse("champion-detail", args=[champion.pk])):
        assert "Alice the Great" in text(alice_client.get(url)), url
    match = Match.launch([champion, ready_champion(bob)], author=alice)
    page = text(alice_client.get(reverse("match-detail", args=[match.pk])))
    assert "<td>Alice the Great</td>" in page and "<td>bob</td>" in page
    alice_client.force_login(bob)
    page = text(alice_client.post(reverse("account"), {"display_name": "alice the great"}))
    assert "another player's name" in page
    alice_client.force_login(alice)
    alice_client.post(reverse("account"), {"display_name": ""})
    assert "Alice the Great" not in text(alice_client.get(reverse("leaderboard")))


def test_accounts_in_bulk_may_carry_a_display_name(tmp_path, alice):
    create_accounts(tmp_path, "username,email,display_name\n"
                              "dan,dan@example.org,Dan D.\n"
                              "eve,eve@example.org,\n")
    assert shown_name(User.objects.get(username="dan")) == "Dan D."
    assert shown_name(User.objects.get(username="eve")) == "eve"
    with pytest.raises(CommandError, match="line 2: the display name 'alice': 'alice' is "
                                           "another player's name"):
        create_accounts(tmp_path, "username,email,display_name\nfay,f@example.org,alice\n")
