"""Organisers and players in headless Chromium (Debian's): accounts from a CSV file, a
password reset by mail, a display name, a challenge from the leaderboard, and a
tournament's entrants, matrix and live progress."""

import re

import pytest
from django.contrib.auth.models import User

from stechec.contest.models import Tournament
from tests.tournaments.results import finish
from tests.www.helpers import ready_champion
from tests.www.test_browser import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_staff_create_accounts_and_a_player_resets_her_password_and_names_herself(
        browser_page, live_server, tmp_path, mailoutbox):
    page = browser_page
    User.objects.create_user("orga", password="orga-password", is_staff=True)
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("username,email,display_name\nzoe,zoe@example.org,\n"
                        "yan,yan@example.org,Yan the Bold\n")

    log_in(page, live_server, "orga", "orga-password")
    page.click("nav >> text=Accounts")
    page.set_input_files("input[name=accounts]", str(accounts))
    page.check("input[name=mail]")
    page.click("button:has-text('Create the accounts')")
    page.wait_for_selector("#created-accounts")
    assert page.locator("#created-accounts tbody tr").count() == 2
    assert "2 mails sent." in page.inner_text("main")
    screenshot(page, "accounts-bulk.png")
    page.click("button:has-text('Log out')")

    # zoe lost her mail: she asks for a reset link.
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("text=Forgot your password?")
    page.fill("input[name=email]", "zoe@example.org")
    page.click("button:has-text('Send the link')")
    page.wait_for_selector("#reset-sent")
    link = re.search(r"http://[^/]+(/accounts/password/reset/\S+/)", mailoutbox[-1].body)[1]
    page.goto(live_server.url + link)
    page.fill("input[name=new_password1]", "zoe's own long secret")
    page.fill("input[name=new_password2]", "zoe's own long secret")
    page.click("button:has-text('Set the password')")
    page.wait_for_selector("#reset-complete")
    screenshot(page, "password-reset.png")

    log_in(page, live_server, "zoe", "zoe's own long secret")
    page.click("nav >> text=zoe")
    page.fill("input[name=display_name]", "Zoe Z.")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Display name saved.")
    screenshot(page, "account.png")
    champion = ready_champion(User.objects.get(username="zoe"), "zed")
    page.goto(f"{live_server.url}/champions/{champion.pk}/")
    assert "Zoe Z. (zoe)" in page.inner_text(".facts")


def test_a_player_challenges_the_leader_and_an_organiser_runs_a_tournament(
        browser_page, live_server):
    page = browser_page
    staff = User.objects.create_user("orga", password="orga-password", is_staff=True)
    players = [User.objects.create_user(name) for name in ("ann", "ben")]
    leader, _ = (ready_champion(user, f"{user.username}-bot", rated_games=3, rating=r)
                      for user, r in zip(players, (12.5, 8.0), strict=True))
    mine = ready_champion(staff, "orga-bot")

    log_in(page, live_server, "orga", "orga-password")
    page.click("nav >> text=Leaderboard")
    page.click(f"a.challenge[href$='?opponent={leader.pk}']")
    page.wait_for_selector("h1:has-text('Start a match')")
    assert page.input_value("input[name=champion_1]") == f"orga/orga-bot #{mine.pk}"
    assert page.input_value("input[name=champion_2]") == f"ann/ann-bot #{leader.pk}"
    assert page.locator("select[name=map]").count() == 0, "tictactoe plays without maps"
    screenshot(page, "challenge.png")

    # The tournament form shows who the default enters before anything is created.
    page.goto(f"{live_server.url}/tournaments/new/")
    entrants = page.locator("table.entrants tbody tr td:nth-child(2) a").all_inner_texts()
    assert entrants == ["ann-bot", "ben-bot"]
    screenshot(page, "tournament-entrants.png")
    page.fill("input[name=name]", "Cup")
    page.click("button:has-text('Create')")
    page.wait_for_selector("h1:has-text('Tournament Cup')")
    cup = Tournament.objects.get()
    heads = page.locator("table.matrix thead th.champion").all_inner_texts()
    assert sorted(head.split(". ", 1)[1] for head in heads) == ["ann-bot", "ben-bot"]
    screenshot(page, "tournament-running.png")

    # The master finishes a match: the page shows it by itself, without a reload.
    page.evaluate("window.stechecNotReloaded = true")
    finish(cup.matches.order_by("id").first(), [2, 0])
    page.wait_for_selector("#tournament-progress:has-text('1 done of 2')")
    assert page.evaluate("window.stechecNotReloaded === true")
    screenshot(page, "tournament-progress.png")
