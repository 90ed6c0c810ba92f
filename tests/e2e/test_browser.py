"""A player's journey in headless Chromium (Debian's) on the whole cluster.

Each step's screenshot goes to test-artifacts/e2e/ (kept by CI).
"""

import os
import re
import time

import pytest

from stechec.local.seed import source_archive
from tests.e2e.client import status_of
from tests.e2e.conftest import ARTIFACTS, SAMPLES, password_of, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Compiling, then running a match, on a machine other test suites share.
TASK_TIMEOUT_MS = 120_000


def screenshot(page, name):
    page.screenshot(path=os.path.join(ARTIFACTS, name), full_page=True)


def mark_the_page(page):
    """A mark in the page's window, which a reload or another page would lose."""
    page.evaluate("window.stechecNotReloaded = true")


def was_not_reloaded(page):
    return page.evaluate("window.stechecNotReloaded === true")


def wait_until_ready(cluster, player, pk):
    wait_for(cluster, lambda: status_of(player.get(f"/champions/{pk}/").body,
                                        "champion-status") == "ready",
             f"champion {pk} to be ready")


def test_a_player_uploads_plays_and_watches_the_replay(cluster, session, page, tmp_path):
    # alice's opponent: bob's random Python champion, uploaded over HTTP.
    bob = session("bob")
    opponent = bob.upload("bob-random", os.path.join(SAMPLES, "python-random"))
    archive = tmp_path / "alice-good.tgz"
    archive.write_bytes(source_archive(os.path.join(SAMPLES, "c-good")).getvalue())
    url = cluster.url.rstrip("/")

    page.goto(f"{url}/champions/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", password_of("alice"))
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{url}/champions/")
    screenshot(page, "01-logged-in.png")

    page.click("text=Upload a champion")
    page.fill("input[name=name]", "alice-good")
    page.set_input_files("input[name=sources]", str(archive))
    submitted = time.monotonic()
    page.click("button:has-text('Upload')")
    page.wait_for_url(re.compile(r"/champions/\d+/$"))
    mark_the_page(page)
    champion = int(re.search(r"/champions/(\d+)/$", page.url).group(1))
    screenshot(page, "02-uploaded.png")

    # The page updates itself until the champion is compiled, without a reload.
    page.locator("#champion-status .status-ready").wait_for(timeout=TASK_TIMEOUT_MS)
    print(f"upload to ready in the browser: {time.monotonic() - submitted:.2f} s")
    assert was_not_reloaded(page)
    assert page.locator("h2:has-text('Compilation log') + pre.log").inner_text().strip()
    assert "uploaded; it is waiting for compilation" in page.locator("main").inner_text()
    screenshot(page, "03-compiled.png")
    page.click("a:has-text('Compilation log')")
    page.wait_for_url(f"{url}/champions/{champion}/log/")
    assert "Compilation succeeded" in page.locator("body").inner_text()
    screenshot(page, "04-compilation-log.png")

    wait_until_ready(cluster, bob, opponent)
    page.go_back()
    page.click("text=Start a match with it")
    assert page.input_value("input[name=champion_1]") == f"alice/alice-good #{champion}"
    # The opponent by name: bob's latest ready champion, suggested as alice types.
    page.locator("input[name=champion_2]").press_sequentially("bo")
    page.locator(f"#champion-choices option[value='bob/bob-random #{opponent}']").wait_for(
        state="attached")
    page.fill("input[name=champion_2]", "bob")
    screenshot(page, "05-match-form.png")
    page.click("button:has-text('Start the match')")
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    mark_the_page(page)
    launched = time.monotonic()
    screenshot(page, "06-match-waiting.png")

    # Done without the test reloading: the page updates itself while in flight.
    page.locator("#match-status .status-done").wait_for(timeout=TASK_TIMEOUT_MS)
    print(f"match page to done in the browser: {time.monotonic() - launched:.2f} s")
    assert was_not_reloaded(page)
    screenshot(page, "07-match-done.png")
    assert page.locator("table").first.locator("tbody tr td:nth-child(2)").all_inner_texts() \
        == [f"alice-good #{champion}", f"bob-random #{opponent}"]
    scores = page.locator("table").first.locator("tbody tr td:nth-child(4)").all_inner_texts()
    assert sorted(int(s) for s in scores) in ([0, 2], [1, 1]), scores

    viewer = page.frame_locator("#replay-viewer")
    turn = viewer.locator("#replay-turn")
    turn.wait_for()
    states = int(re.fullmatch(r"state 1 / (\d+).*", turn.inner_text()).group(1))
    assert states >= 6, "a tictactoe game has at least five moves after the empty board"
    assert viewer.locator("#replay-board .cell.p0, #replay-board .cell.p1").count() == 0
    viewer.locator("button[data-step=next]").click()
    assert turn.inner_text().startswith(f"state 2 / {states}")
    assert viewer.locator("#replay-board .cell.p0, #replay-board .cell.p1").count() == 1
    screenshot(page, "08-replay-step.png")
    viewer.locator("button[data-step=last]").click()
    assert turn.inner_text().startswith(f"state {states} / {states}")
    assert re.search(r"(wins|Draw)\.$", viewer.locator("#replay-caption").inner_text())
    screenshot(page, "09-replay-end.png")

    page.goto(f"{url}/status/")
    # A player reads the summary; the workers' table is the organisers'.
    assert page.inner_text("#workers-up") == "2"
    assert page.locator("table.workers").count() == 0
    screenshot(page, "10-status.png")

