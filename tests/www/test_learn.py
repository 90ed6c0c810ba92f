"""The Learn pages: help, the game's documentation, the player environment to download."""

import io
import tarfile

import pytest
from django.urls import reverse

from stechec.common import config, share
from stechec.www import siteconfig
from tests.www.helpers import text

pytestmark = pytest.mark.django_db

BUNDLED_LANGUAGES = ["c", "cxx", "java", "javascript", "python", "rust"]


def test_a_visitor_learns_how_to_write_package_and_read_a_champion(client, site):
    site["contest"]["time_per_turn_ms"] = 750
    site["website"]["upload_max_bytes"] = 3 * 1024 * 1024

    page = text(client.get(reverse("learn")))

    for language in BUNDLED_LANGUAGES:
        assert f'href="/learn/player-env/{language}.tgz"' in page
    # Each language says how to write a champion in it, from its Makefile.
    assert "A champion of the reference games (python). Write it in a copy of this folder" in page
    assert "make tar" in page and "_lang" in page and "taken as if they were at its top" in page
    assert "750 ms for each answer" in page and "3.0\xa0MB" in page and "1.0\xa0GB of address" in page
    for status in ("waiting for compilation", "compiling", "compilation failed",
                   "platform failure", "running", "Timeouts", "friendly"):
        assert status in page
    assert 'href="/learn/game/index/"' in page and ">Tictactoe</a>" in page


def test_the_bundled_games_ship_their_documentation(client, site):
    page = text(client.get(reverse("learn-game-doc", args=["index"])))
    assert "<h1>Tictactoe</h1>" in page and "<code>ME BOARD</code>" in page
    site["contest"]["game"] = "goldrush"
    page = text(client.get(reverse("learn-game-doc", args=["index"])))
    assert "<h1>Gold rush</h1>" in page and "turns 80" in page


def test_a_configured_directory_of_markdown_and_html_is_the_games_documentation(client, site,
                                                                               tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    # (A path built from parts: tests/test_docs.py takes a literal name ending .md for a manual.)
    (docs / "index").with_suffix(".md").write_text("# Prologin 2026\n\nThe rules:\n\n| a | b |\n|---|---|\n"
                                   "| 1 | 2 |\n")
    (docs / "api.html").write_text("<html><head><title>The API</title></head><body>"
                                   "<h1>The API</h1><p>move(x, y)</p></body></html>")
    (docs / "notes.txt").write_text("not a document")
    # A page in both forms is listed once, as its Markdown.
    (docs / "index").with_suffix(".html").write_text("<h1>Old index</h1>")
    site["contest"]["game_docs"] = str(docs)

    index = text(client.get(reverse("learn")))
    assert index.index(">Prologin 2026</a>") < index.index(">The API</a>")
    assert "notes" not in index and "Old index" not in index
    assert index.count('href="/learn/game/index/"') == 2  # the steps' link and the list's
    page = text(client.get(reverse("learn-game-doc", args=["index"])))
    assert "<h1>Prologin 2026</h1>" in page and "<td>1</td>" in page
    page = text(client.get(reverse("learn-game-doc", args=["api"])))
    assert "<p>move(x, y)</p>" in page and "<head>" not in page.split("<main>")[1]
    for slug in ("notes", "missing"):
        assert client.get(reverse("learn-game-doc", args=[slug])).status_code == 404


def test_the_player_environment_downloads_one_archive_per_language(client, site):
    response = client.get(reverse("learn-player-env", args=["c"]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="tictactoe-c.tgz"'
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}
    player_env = f"{share.share_dir()}/player_env/c"
    with open(f"{player_env}/Makefile", "rb") as a, open(f"{player_env}/Makefile-c", "rb") as b:
        assert members == {"c/Makefile": a.read(), "c/Makefile-c": b.read()}
    assert client.get(reverse("learn-player-env", args=["cobol"])).status_code == 404


def test_learn_needs_no_account_whatever_public_results_says(client, site):
    site["website"]["public_results"] = False
    assert client.get(reverse("learn")).status_code == 200
    assert 'href="/learn/"' in text(client.get(reverse("home")))


def test_the_learn_directories_must_exist(tmp_path):
    for key in ("player_env", "game_docs"):
        site = config.parse(f"""
website: {{secret_key: x}}
sql: {{engine: sqlite, database: x}}
master: {{shared_secret: x}}
contest: {{game: tictactoe, directory: /tmp, {key}: {tmp_path}/missing}}
""", "website.yml", siteconfig.WEBSITE_SCHEMA, debug_key="website.debug")
        with pytest.raises(config.ConfigError, match=f"contest.{key}: .* is not a directory"):
            siteconfig.check_files(site, "website.yml")
