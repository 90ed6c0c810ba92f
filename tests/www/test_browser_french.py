"""The French site in headless Chromium (Debian's): a browser asking for French gets
it, a player works in it, and the switch in the menu goes back to English."""

import pytest
from django.contrib.auth.models import User

from tests.browser import TIMEOUT_MS
from tests.www.helpers import finished_match, ready_champion
from tests.www.test_browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_french_player_reads_the_site_in_french_and_switches_to_english(browser_page,
                                                                          live_server):
    # A browser set to French: a context of the same Chromium with that locale.
    french = browser_page.context.browser.new_context(
        locale="fr-FR", viewport=browser_page.viewport_size)
    try:
        page = french.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        walk_the_french_site(page, live_server)
    finally:
        french.close()


def walk_the_french_site(page, live_server):
    alice = User.objects.create_user("alice", password="alice-password")
    bob = User.objects.create_user("bob", password="bob-password")
    mine = ready_champion(alice, "vif", rating_mu=27.5, rating_sigma=6.25)
    theirs = ready_champion(bob, "lent")
    match = finished_match(alice, [mine, theirs])

    page.goto(f"{live_server.url}/")
    assert page.get_attribute("html", "lang") == "fr"
    page.click("nav >> text=Apprendre")
    page.wait_for_selector("h1:has-text('Apprendre à écrire un champion')")
    assert "ms pour chaque réponse" in page.inner_text("table.facts-table")
    screenshot(page, "french-learn.png")

    page.click("nav >> text=Se connecter")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-password")
    page.click("main button:has-text('Se connecter')")
    page.wait_for_selector("h2:has-text('Mes derniers champions')")

    page.goto(f"{live_server.url}/champions/{mine.pk}/")
    page.wait_for_selector("h1:has-text('Champion vif')")
    facts = page.inner_text("dl.facts")
    # Numbers with a decimal comma, statuses in French.
    assert "moyenne 27,50 ± 6,25" in facts and "prêt" in facts
    screenshot(page, "french-champion.png")

    page.goto(f"{live_server.url}/matches/{match.pk}/")
    page.wait_for_selector(f"h1:has-text('Match {match.pk}')")
    assert "Lancé par" in page.inner_text("dl.facts")
    page.goto(f"{live_server.url}/matches/new/")
    page.wait_for_selector("h1:has-text('Lancer un match')")
    page.fill("input[name=champion_1]", "alice")
    page.fill("input[name=champion_2]", "personne")
    page.click("main button:has-text('Lancer le match')")
    page.wait_for_selector(".error:has-text('Aucun champion prêt ne s’appelle')")
    screenshot(page, "french-match-form.png")

    # The switch beats the browser's language, on every page after it too.
    page.click("nav button:has-text('English')")
    page.wait_for_selector("h1:has-text('Start a match')")
    assert page.get_attribute("html", "lang") == "en"
    page.click("nav >> text=Learn")
    page.wait_for_selector("h1:has-text('Learn to write a champion')")
    page.click("nav button:has-text('Français')")
    page.wait_for_selector("h1:has-text('Apprendre à écrire un champion')")
