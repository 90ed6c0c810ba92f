"""The replay: the game's viewer page, embedded by the match page, and the dump it reads,
streamed (a contest game's dump is tens of MB)."""

import gzip
import hashlib
import json
import os
import tracemalloc

import pytest
from django.urls import reverse

from stechec.common import config, paths
from stechec.www import siteconfig
from tests.www.helpers import (
    finished_match,
    match_file,
    ready_champion,
    text,
    tictactoe_dump,
    write_file,
)

pytestmark = pytest.mark.django_db

# Tens of MB, as the dump of a contest game on a large map.
LARGE_DUMP_BYTES = 40 * 1024 * 1024


@pytest.fixture
def match(alice, bob, site):
    """A finished match of alice's champion against bob's, with its dump."""
    match = finished_match(alice, [ready_champion(alice, "crosses"),
                                   ready_champion(bob, "noughts")])
    first, second = match.players.all()
    write_file(match_file(site, match, paths.DUMP), tictactoe_dump([first.pk, second.pk]))
    return match


def test_the_match_page_embeds_the_viewer_page(alice_client, match):
    page = text(alice_client.get(reverse("match-detail", args=[match.pk])))
    assert f'<iframe id="replay-viewer" class="replay-viewer" src="/matches/{match.pk}/viewer/"' \
        in page


def test_a_match_without_a_dump_says_so(alice_client, alice):
    match = finished_match(alice, [ready_champion(alice)] * 2)
    page = text(alice_client.get(reverse("match-detail", args=[match.pk])))
    assert "This match has no dump." in page and "<iframe" not in page


def test_the_bundled_viewer_page_is_given_the_dump_url_and_the_players(alice_client, match):
    response = alice_client.get(reverse("match-viewer", args=[match.pk]))

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    page = text(response)
    assert f'data-dump-url="/matches/{match.pk}/dump.json"' in page
    assert '<script src="/static/game/replay.js">' in page
    first, second = match.players.all()
    players = page.split('<script id="replay-players" type="application/json">')[1]
    assert json.loads(players.split("</script>")[0]) == {str(first.pk): "crosses",
                                                         str(second.pk): "noughts"}


def test_a_games_own_viewer_page_by_configuration(alice_client, match, site, tmp_path):
    viewer = tmp_path / "viewer"
    (viewer / "www").mkdir(parents=True)
    (viewer / "www" / "index.html").write_text(
        "<p>{{ game }} {{ match_id }} {{ dump_url }} {{ static_url }}www/app.js</p>")
    site["website"]["static_path"] = str(viewer)
    site["website"]["replay_page"] = "www/index.html"

    page = text(alice_client.get(reverse("match-viewer", args=[match.pk])))

    assert page == f"<p>tictactoe {match.pk} /matches/{match.pk}/dump.json /static/game/www/app.js</p>"


def test_only_who_may_read_the_match_gets_its_viewer_and_dump(client, match, bob, staff):
    viewer = reverse("match-viewer", args=[match.pk])
    dump = reverse("match-dump-json", args=[match.pk])
    assert client.get(viewer)["Location"].startswith(reverse("login"))
    assert client.get(dump)["Location"].startswith(reverse("login"))
    outsider = type(bob).objects.create_user("carol", password="carol-password")
    client.force_login(outsider)
    assert client.get(viewer).status_code == 403
    assert client.get(dump).status_code == 403
    for user in (bob, staff):
        client.force_login(user)
        assert client.get(viewer).status_code == 200
        assert client.get(dump).status_code == 200


def _body(response):
    return b"".join(response.streaming_content)


def test_the_dump_goes_as_it_is_stored_to_a_browser_that_takes_gzip(alice_client, match, site):
    stored = open(match_file(site, match, paths.DUMP), "rb").read()
    url = reverse("match-dump-json", args=[match.pk])

    encoded = alice_client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert encoded["Content-Encoding"] == "gzip"
    assert encoded["Content-Type"] == "application/json"
    assert "Accept-Encoding" in encoded["Vary"]
    assert int(encoded["Content-Length"]) == len(stored)
    assert _body(encoded) == stored

    for accepted in (None, "identity", "gzip;q=0, identity"):
        headers = {} if accepted is None else {"HTTP_ACCEPT_ENCODING": accepted}
        plain = alice_client.get(url, **headers)
        assert not plain.has_header("Content-Encoding"), accepted
        assert "Accept-Encoding" in plain["Vary"]
        assert json.loads(_body(plain))["game"] == "tictactoe"


@pytest.mark.parametrize(("stored", "status", "message"), [
    (None, 404, "is not available (yet)"),
    (b"not gzip at all", 404, "its file is not gzip"),
])
def test_a_missing_or_damaged_dump_is_a_404_saying_so(alice_client, alice, site, stored, status,
                                                     message):
    match = finished_match(alice, [ready_champion(alice)] * 2)
    if stored is not None:
        write_file(match_file(site, match, paths.DUMP), stored)
    response = alice_client.get(reverse("match-dump-json", args=[match.pk]))
    assert response.status_code == status
    assert message in text(response)


def test_a_dump_truncated_midway_ends_the_stream_without_an_error(alice_client, match, site):
    path = match_file(site, match, paths.DUMP)
    whole = gzip.compress(b'{"turn": 1}\n' * 100000)
    write_file(path, whole[:len(whole) // 2])
    body = _body(alice_client.get(reverse("match-dump-json", args=[match.pk])))
    assert 0 < len(body) < 12 * 100000 and body.startswith(b'{"turn": 1}\n')


@pytest.fixture
def large_dump(match, site):
    """A dump of LARGE_DUMP_BYTES JSON lines (varied, so that gzip does not reduce it to
    nothing) stored as a worker stores it; the SHA-256 of its JSON."""
    digest = hashlib.sha256()
    written = turn = 0
    with gzip.open(match_file(site, match, paths.DUMP), "wb", compresslevel=1) as f:
        while written < LARGE_DUMP_BYTES:
            line = (json.dumps({"turn": turn, "cells": os.urandom(8192).hex()}) + "\n").encode()
            f.write(line)
            digest.update(line)
            written += len(line)
            turn += 1
    return digest.hexdigest()


def _peak_while(consume):
    """The peak of Python allocations while `consume()` runs, in bytes."""
    tracemalloc.start()
    try:
        consume()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
@pytest.mark.parametrize("accept", ["gzip", "identity"])
def test_a_large_dump_is_served_in_bounded_memory(alice_client, match, site, large_dump, accept):
    stored = os.path.getsize(match_file(site, match, paths.DUMP))
    digest = hashlib.sha256()
    sizes = []

    response = alice_client.get(reverse("match-dump-json", args=[match.pk]),
                                HTTP_ACCEPT_ENCODING=accept)
    assert response.streaming

    def consume():
        for chunk in response.streaming_content:
            sizes.append(len(chunk))
            digest.update(chunk)
        response.close()

    peak = _peak_while(consume)

    if accept == "gzip":
        with open(match_file(site, match, paths.DUMP), "rb") as f:
            assert digest.digest() == hashlib.file_digest(f, "sha256").digest()
        assert sum(sizes) == stored
    else:
        assert sum(sizes) >= LARGE_DUMP_BYTES and digest.hexdigest() == large_dump
    # Chunks, never the whole: far below the dump's size.
    assert max(sizes) <= 64 * 1024
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes while serving a {stored}-byte dump"


@pytest.mark.slow
def test_the_match_page_does_not_read_a_large_dump(alice_client, match, large_dump):
    alice_client.get(reverse("match-detail", args=[match.pk]))  # Imports, template loading.
    peak = _peak_while(lambda: alice_client.get(reverse("match-detail", args=[match.pk])))
    assert peak < LARGE_DUMP_BYTES / 8, f"peak {peak} bytes for the match page"


def test_the_viewers_static_files_are_served_without_path_traversal(client):
    assert client.get("/static/game/replay.js").status_code == 200
    for escape in ("/static/game/../../siteconfig.py", "/static/game/%2e%2e/%2e%2e/siteconfig.py",
                   "/static/game/..%2f..%2fsiteconfig.py", "/static/game/%2fetc%2fpasswd"):
        response = client.get(escape)
        assert response.status_code == 404, escape


def _load(tmp_path, website="", contest=""):
    yml = tmp_path / "website.yml"
    yml.write_text(f"website:\n  secret_key: x\n{website}\ncontest:\n  game: tictactoe\n"
                   f"  directory: {tmp_path}\n{contest}\nsql:\n  engine: sqlite\n"
                   f"  database: {tmp_path}/db.sqlite3\nmaster:\n  shared_secret: x\n")
    return yml, lambda: siteconfig.load(str(yml))


@pytest.mark.parametrize(("website", "contest", "error"), [
    ("  replay_pages: x.html", "", "website.replay_pages: unknown key (did you mean "
                                   "'website.replay_page'?)"),
    ("  static_path: /no/such/dir", "", "website.static_path: /no/such/dir is not a directory"),
    ("  replay_page: ../templates/base.html", "",
     "website.replay_page: '../templates/base.html' is not a path inside website.static_path"),
    ("  replay_page: /etc/passwd", "",
     "website.replay_page: '/etc/passwd' is not a path inside website.static_path"),
    ("  replay_page: index.html", "",
     f"website.replay_page: there is no file 'index.html' in {siteconfig.BUNDLED_REPLAY_VIEWER}"),
    ("", "  map_validater: /bin/true", "contest.map_validater: unknown key (did you mean "
                                       "'contest.map_validator'?)"),
    ("", "  map_validator: /etc/passwd", "contest.map_validator: /etc/passwd is not an "
                                         "executable file"),
])
def test_viewer_and_validator_keys_are_checked_with_one_line(tmp_path, website, contest, error):
    yml, load = _load(tmp_path, website, contest)
    with pytest.raises(config.ConfigError) as raised:
        load()
    assert str(raised.value) == f"{yml}: {error}"


def test_the_defaults_are_the_bundled_viewer_and_no_validator(tmp_path):
    _, load = _load(tmp_path)
    site = load()
    assert siteconfig.replay_viewer_dir(site["website"]) == siteconfig.BUNDLED_REPLAY_VIEWER
    assert site["website"]["replay_page"] == "replay.html"
    assert site["contest"]["map_validator"] is None
