"""Newcomers and visitors in headless Chromium (Debian's): the Learn pages, the player
environment's download, a one-folder archive, and the public results."""

import io
import tarfile

import pytest
from django.contrib.auth.models import User

from stechec.contest.models import Champion, Match, Tournament
from tests.www.helpers import finished_match, make_tgz, ready_champion
from tests.www.test_browser import log_in, screenshot
from tests.www.test_matches import play

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_newcomer_learns_the_game_downloads_the_environment_and_uploads(browser_page,
                                                                         live_server,
                                                                         tmp_path):
    page = browser_page
    User.objects.create_user("newcomer", password="newcomer-password")
    page.goto(f"{live_server.url}/")
    page.click("nav >> text=Learn")
    page.wait_for_selector("h1:has-text('Learn to write a champion')")
    assert "make tar" in page.inner_text("#packaging + p")
    assert "ms for each answer" in page.inner_text("table.facts-table")
    screenshot(page, "learn.png")

    page.click("a:has-text('Tictactoe')")
    page.wait_for_selector("article.game-doc h1:has-text('Tictactoe')")
    assert "ME BOARD" in page.inner_text("article.game-doc")
    screenshot(page, "learn-game.png")

    page.click("text=Learn")
    with page.expect_download() as download:
        page.click("#language-python a:has-text('tictactoe-python.tgz')")
    path = tmp_path / "python.tgz"
    download.value.save_as(path)
    with tarfile.open(path) as tar:
        assert sorted(tar.getnames()) == ["python/Makefile", "python/Makefile-python"]

    # The usual mistake: the folder itself packed, not its contents.
    archive = tmp_path / "champion.tgz"
    archive.write_bytes(make_tgz({"mybot/champion.py": b"print('0 0')\n",
                                  "mybot/_lang": b"python\n"}))
    log_in(page, live_server, "newcomer", "newcomer-password")
    page.click("text=Upload a champion")
    page.fill("input[name=name]", "first")
    page.set_input_files("input[name=sources]", str(archive))
    page.click("button:has-text('Upload')")
    page.wait_for_selector("h1:has-text('Champion first')")
    assert "Its files were all in the folder mybot/" in page.inner_text(".message")
    screenshot(page, "upload-one-folder.png")
    stored = Champion.objects.get(name="first")
    assert stored.status == "new"
    # The stored archive is flat.
    with page.expect_download() as download:
        page.click("text=Download the sources")
    with tarfile.open(fileobj=io.BytesIO(open(download.value.path(), "rb").read())) as tar:
        assert sorted(tar.getnames()) == ["_lang", "champion.py"]


def test_a_visitor_reads_the_public_leaderboard_and_a_tournament(browser_page, live_server):
    page = browser_page
    ann, ben = (User.objects.create_user(name) for name in ("ann", "ben"))
    first, second = ready_champion(ann, "ann-bot"), ready_champion(ben, "ben-bot")
    cup = Tournament.objects.create(name="Spring cup", status="running")
    for champion in (first, second):
        cup.players.create(champion=champion, score=0)
    final = Match.launch([first, second], tournament=cup)
    play(final, [2, 0])
    finished_match(ann, [first, second])  # not a tournament's: not public

    page.goto(f"{live_server.url}/")
    page.click("nav >> text=Leaderboard")
    page.wait_for_selector("h1:has-text('Leaderboard')")
    rows = page.inner_text("table.ranking tbody")
    assert rows.index("ann-bot") < rows.index("ben-bot") and " ± " in rows
    screenshot(page, "public-leaderboard.png")

    page.click("nav >> text=Tournaments")
    page.click("text=Spring cup")
    page.wait_for_selector("h1:has-text('Spring cup')")
    screenshot(page, "public-tournament.png")
    page.click("text=all its matches")
    page.click(f"a[href='/matches/{final.pk}/']")
    page.wait_for_selector(f"h1:has-text('Match {final.pk}')")
    assert "Server log" not in page.inner_text("main")
    assert "This match has no dump." in page.inner_text("main")  # its replay's place
    assert "Log in" in page.inner_text("nav")
    screenshot(page, "public-match.png")
