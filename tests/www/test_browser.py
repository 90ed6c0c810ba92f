"""A player's journey in headless Chromium (Debian's), against a live server."""

import gzip
import os

import pytest
from django.contrib.auth.models import User

from stechec.contest.models import Champion
from tests.www.helpers import (
    STATUS,
    finished_match,
    make_tgz,
    match_file,
    ready_champion,
    tictactoe_dump,
    write_file,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "test-artifacts")


# Generous: other test suites share the machine's cores.
WAIT_MS = 60_000


def screenshot(page, name):
    page.screenshot(path=os.path.join(ARTIFACTS, name), full_page=True)


def log_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/champions/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live_server.url}/champions/")


def test_log_in_upload_a_champion_and_watch_its_status(browser_page, live_server, tmp_path):
    page = browser_page
    alice = User.objects.create_user("alice", password="alice-password")
    archive = tmp_path / "champion.tgz"
    archive.write_bytes(make_tgz({"prologin.py": b"def play_turn():\n    pass\n"}))

    bad_archive = tmp_path / "bad.tgz"
    bad_archive.write_bytes(make_tgz({"../escape.py": b"x"}))

    log_in(page, live_server, "alice", "alice-password")
    page.click("text=Upload a champion")
    page.fill("input[name=name]", "my-first-bot")
    page.set_input_files("input[name=sources]", str(bad_archive))
    page.click("button:has-text('Upload')")
    assert "paths with '..' are not accepted" in page.inner_text(".field.has-errors")
    assert not Champion.objects.exists()
    screenshot(page, "champion-refused.png")

    page.fill("input[name=name]", "my-first-bot")
    page.fill("textarea[name=comment]", "plays the centre first")
    page.set_input_files("input[name=sources]", str(archive))
    page.click("button:has-text('Upload')")

    page.wait_for_selector("h1:has-text('Champion my-first-bot')")
    champion = Champion.objects.get(author=alice)
    assert page.url == f"{live_server.url}/champions/{champion.pk}/"
    assert "waiting for compilation" in page.inner_text("#champion-status")
    assert page.is_visible("text=Download the sources")
    screenshot(page, "champion-waiting.png")
    page.evaluate("window.stechecNotReloaded = true")

    # A worker compiles it; the page updates itself, without a reload, to the new status.
    Champion.objects.filter(pk=champion.pk).update(status=Champion.Status.READY,
                                                   language="python")
    page.wait_for_function(
        "document.querySelector('#champion-status').innerText.includes('ready')")
    assert page.evaluate("window.stechecNotReloaded === true")
    assert "python" in page.content()
    screenshot(page, "champion-ready.png")


def test_step_through_a_tictactoe_replay(browser_page, live_server, site):
    """The bundled viewer, in the match page's frame, fetches the dump and plays it."""
    page = browser_page
    alice = User.objects.create_user("alice", password="alice-password")
    mine, theirs = ready_champion(alice, "crosses"), ready_champion(alice, "noughts")
    match = finished_match(alice, [mine, theirs])
    first, second = match.players.all()
    write_file(match_file(site, match, "dump.json.gz"), tictactoe_dump([first.pk, second.pk]))

    log_in(page, live_server, "alice", "alice-password")
    page.goto(f"{live_server.url}/matches/{match.pk}/")
    viewer = page.frame_locator("#replay-viewer")

    turn = viewer.locator("#replay-turn")
    turn.wait_for()
    assert turn.inner_text().startswith("state 1 / 3")
    assert viewer.locator("#replay-board").inner_text().replace("\n", "") == ""
    viewer.locator("button:has-text('Next')").click()
    viewer.locator("button:has-text('Next')").click()
    assert turn.inner_text().startswith("state 3 / 3")
    assert viewer.locator("#replay-board").inner_text().replace("\n", "") == "XO"
    assert viewer.locator("#replay-caption").inner_text() == "noughts (O) wins."
    screenshot(page, "match-replay.png")
    viewer.locator("button:has-text('Previous')").click()
    assert viewer.locator("#replay-caption").inner_text() == "noughts (O) to play."


def test_the_replay_plays_by_itself_follows_the_keys_and_links_to_a_turn(browser_page,
                                                                         live_server, site):
    page = browser_page
    alice = User.objects.create_user("alice", password="alice-password")
    match = finished_match(alice, [ready_champion(alice, "crosses"),
                                   ready_champion(alice, "noughts")])
    first, second = match.players.all()
    write_file(match_file(site, match, "dump.json.gz"), tictactoe_dump([first.pk, second.pk]))
    log_in(page, live_server, "alice", "alice-password")
    url = f"{live_server.url}/matches/{match.pk}/"

    # A link to turn 1 opens the replay there, in the match page's frame.
    page.goto(url + "#turn=1")
    viewer = page.frame_locator("#replay-viewer")
    turn = viewer.locator("#replay-turn")
    turn.wait_for()
    assert turn.inner_text() == "state 2 / 3 (turn 1)"

    # The arrow keys step, and the match page's address follows.
    viewer.locator("#replay-board").click()
    page.keyboard.press("ArrowRight")
    assert turn.inner_text() == "state 3 / 3 (turn 2)"
    assert page.url == url + "#turn=2"
    page.keyboard.press("Home")
    assert turn.inner_text() == "state 1 / 3 (turn 0)"
    assert viewer.locator("#replay-link").get_attribute("href") == \
        f"/matches/{match.pk}/#turn=0"

    # Play: it steps by itself to the end at the chosen speed, then stops.
    viewer.locator("#replay-speed").select_option("250")
    viewer.locator("#replay-play").click()
    viewer.locator("#replay-caption:has-text('wins.')").wait_for()
    assert turn.inner_text() == "state 3 / 3 (turn 2)"
    viewer.locator("#replay-play:has-text('Play')").wait_for()
    assert page.url == url + "#turn=2"
    screenshot(page, "match-replay-played.png")


def test_the_viewer_says_when_a_dump_is_not_one_it_shows(browser_page, live_server, site):
    page = browser_page
    alice = User.objects.create_user("alice", password="alice-password")
    broken, other = (finished_match(alice, [ready_champion(alice)] * 2) for _ in range(2))
    write_file(match_file(site, broken, "dump.json.gz"), gzip.compress(b'{"game": "tictac'))
    write_file(match_file(site, other, "dump.json.gz"),
               gzip.compress(b'{"game": "goldrush", "states": []}'))

    log_in(page, live_server, "alice", "alice-password")
    for match, message in ((broken, "The dump is not valid JSON."),
                           (other, "this dump is not one (goldrush)")):
        page.goto(f"{live_server.url}/matches/{match.pk}/viewer/")
        page.locator(f"#replay-message:has-text('{message}')").wait_for()
        assert page.get_attribute("#replay-message a", "href") == \
            f"/matches/{match.pk}/dump.json.gz"
        assert page.is_hidden("#replay-controls")
    screenshot(page, "match-replay-other-game.png")


def test_browse_the_match_list_and_the_cluster_status(browser_page, live_server, fake_master):
    page = browser_page
    alice = User.objects.create_user("alice", password="alice-password")
    champions = [ready_champion(alice, name) for name in ("alpha", "beta", "gamma")]
    for n in range(3):
        finished_match(alice, [champions[n], champions[(n + 1) % 3]])
    fake_master(STATUS)

    log_in(page, live_server, "alice", "alice-password")
    page.click("nav >> text=Matches")
    assert page.locator("tbody tr").count() == 3
    screenshot(page, "match-list.png")

    page.click("nav >> text=Cluster")
    assert page.inner_text("#expected-wait") == "about 2 minutes"
    assert page.locator("table.workers").count() == 0
    screenshot(page, "cluster-status-player.png")

    User.objects.create_user("orga", password="orga-password", is_staff=True)
    page.context.clear_cookies()
    log_in(page, live_server, "orga", "orga-password")
    page.goto(f"{live_server.url}/status/")
    assert page.locator("table.workers tbody tr").count() == 2
    assert "75%" in page.inner_text("table.workers")
    assert page.locator("svg.chart polyline").count() == 2
    # The page updates itself: the tasks waiting, the ages in place.
    fake_master({**STATUS, "queue": {**STATUS["queue"], "champions": {"new": 40, "pending": 1},
                                     "oldest_waiting_secs": 30.0}})
    page.locator("#tasks-waiting:has-text('69')").wait_for(timeout=WAIT_MS)
    page.locator("#oldest-waiting:has-text('30 s')").wait_for(timeout=WAIT_MS)
    screenshot(page, "cluster-status.png")
