"""The match page of each faulty champion states how it ended and whose fault the match
was (headless Chromium on the whole cluster; screenshots in test-artifacts/e2e/).

A module of its own, as test_verdicts_browser: each browser test needs the accounts its
module's cluster made, which a transactional test's flush removes.
"""

import os

import pytest

from tests.e2e.conftest import SAMPLES, password_of
from tests.e2e.test_browser import TASK_TIMEOUT_MS, screenshot, wait_until_ready

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


# Faulty Python champions (each against the good C sample): how each one's match page
# says it ended (and when: the bundled game's server says at which turn), and the
# timeouts column of the slow one.
FAULTY = {
    "crasher": ("import os, signal, sys\nsys.stdin.readline()\n"
                "os.kill(os.getpid(), signal.SIGSEGV)\n",
                "crashed: segmentation fault (SIGSEGV) at turn "),
    "raiser": ("import sys\nsys.stdin.readline()\nraise RuntimeError('my bug')\n",
               "exited with status 1 at turn "),
    # Its client ends the game cleanly: its timeouts make the match its fault.
    "sleeper": ("import sys, time\nfor line in sys.stdin:\n    time.sleep(3600)\n",
                "finished normally"),
}


def test_the_match_page_of_each_faulty_champion_states_its_verdict_and_fault(
        cluster, session, page, tmp_path):
    alice, bob = session("alice"), session("bob")
    opponent = bob.upload("bob-good", os.path.join(SAMPLES, "c-good"))
    matches = {}
    for name, (source, _) in FAULTY.items():
        directory = tmp_path / name
        directory.mkdir()
        (directory / "_lang").write_text("python\n")
        (directory / "champion.py").write_text(source)
        champion = alice.upload(name, str(directory))
        wait_until_ready(cluster, alice, champion)
        matches[name] = champion
    wait_until_ready(cluster, bob, opponent)
    matches = {name: alice.launch_match(champion, opponent)
               for name, champion in matches.items()}
    url = cluster.url.rstrip("/")

    page.goto(f"{url}/champions/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", password_of("alice"))
    page.click("button:has-text('Log in')")
    for number, (name, match) in enumerate(matches.items(), start=13):
        page.goto(f"{url}/matches/{match}/")
        page.locator("#match-status .status-done").wait_for(timeout=TASK_TIMEOUT_MS)
        verdict = page.locator("td.verdict").all_inner_texts()[0]
        assert verdict.startswith(FAULTY[name][1]), (name, verdict)
        assert page.locator("#match-fault").inner_text().startswith("a champion's: it counts")
        if name == "sleeper":
            assert "took longer than 1000 ms to answer" in page.locator(
                "td:has(.status-failed)").first.inner_text()
        screenshot(page, f"{number}-faulty-champion-{name}.png")
