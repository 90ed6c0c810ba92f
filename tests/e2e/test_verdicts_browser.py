"""The match page of a hostile champion says, in words, why it was stopped (headless
Chromium on the whole cluster; screenshots in test-artifacts/e2e/).

A module of its own: each browser test needs the accounts its module's cluster made,
which a transactional test's flush removes.
"""

import os

import pytest

from devtools import hostile_champions
from tests.conftest import host_tree_limits
from tests.e2e.conftest import SAMPLES, password_of
from tests.e2e.test_browser import TASK_TIMEOUT_MS, screenshot, wait_until_ready

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_match_page_says_why_a_hostile_champion_was_stopped(cluster, session, page,
                                                                tmp_path):
    """The memory tree (8 children of 200 MB under the client's 1 GiB) is stopped for its
    memory where cgroups hold the whole tree, and its author reads why in words."""
    directory = tmp_path / "memory-tree"
    directory.mkdir()
    (directory / "_lang").write_text("c\n")
    (directory / "champion.c").write_text(hostile_champions.sources(
        hostile_champions.TICTACTOE_PLAY_LOOP, outside=[], port=1,
        port_owner="nobody")["memory tree"])
    alice, bob = session("alice"), session("bob")
    tree = alice.upload("memory-tree", str(directory))
    opponent = bob.upload("bob-good", os.path.join(SAMPLES, "c-good"))
    wait_until_ready(cluster, alice, tree)
    wait_until_ready(cluster, bob, opponent)
    match = alice.launch_match(tree, opponent)
    url = cluster.url.rstrip("/")

    page.goto(f"{url}/champions/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", password_of("alice"))
    page.click("button:has-text('Log in')")
    page.goto(f"{url}/champions/{tree}/")
    assert page.locator("#compile-verdict").inner_text().startswith("finished normally (CPU ")
    screenshot(page, "11-hostile-champion-built.png")
    page.goto(f"{url}/matches/{match}/")
    page.locator("#match-status .status-done").wait_for(timeout=TASK_TIMEOUT_MS)
    verdicts = page.locator("td.verdict").all_inner_texts()
    expected = ("stopped: used more than 1 GiB of memory" if host_tree_limits().memory
                else "stopped: still running after the game had ended")
    # alice reads her champion's verdict, not bob's.
    assert verdicts[0].startswith(expected), verdicts
    assert verdicts[1] == "–", verdicts
    screenshot(page, "12-hostile-champion-stopped.png")
