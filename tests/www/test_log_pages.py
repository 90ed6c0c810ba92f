"""Logs on pages: colours shown, control bytes visible, never raw; downloads as written."""

import pytest
from django.urls import reverse

from stechec.common import paths
from stechec.www.contest.logview import log_html
from tests.www.helpers import (
    champion_file,
    finished_match,
    match_file,
    ready_champion,
    write_file,
)

pytestmark = pytest.mark.django_db

# What the engine and a hostile champion print: a coloured tag, every byte value, invalid
# UTF-8, and HTML.
LOG = (b"[\x1b[1;31mserver\x1b[0m] started\n" + bytes(range(256))
       + b"\n<script>alert(1)</script> \xff\xfe\xc3\x28 end\r\n")
# What a page must never hold: the control characters a log may carry but tab and line end.
RAW = {chr(c) for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)}


def assert_shown(page):
    """`page` (HTML) shows LOG readably."""
    assert not RAW & set(page), sorted(RAW & set(page))
    assert '<span class="ansi-bold ansi-fg-1">server</span>] started' in page
    assert r'<span class="ctl">\x00</span><span class="ctl">\x01</span>' in page
    assert r'<span class="ctl">\x1b</span>' in page and r'<span class="ctl">\x7f</span>' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \ufffd\ufffd\ufffd( end\n" in page
    assert "<script>alert" not in page


def test_log_html_renders_colours_and_controls_and_escapes_the_rest():
    html = log_html(LOG)
    assert_shown(html)
    assert html.startswith("[<span")
    assert "\t\n" in html   # tab and line feed are themselves


def test_the_compilation_log_is_shown_readably_and_downloaded_as_written(alice_client, alice,
                                                                        site):
    champion = ready_champion(alice)
    write_file(champion_file(site, champion, f"attempt-1/{paths.COMPILATION_LOG}"), LOG)

    detail = alice_client.get(reverse("champion-detail", args=[champion.pk])).content.decode()
    assert_shown(detail)
    page = alice_client.get(reverse("champion-log", args=[champion.pk])).content.decode()
    assert_shown(page)
    assert reverse("champion-log-download", args=[champion.pk]) in page
    download = alice_client.get(reverse("champion-log-download", args=[champion.pk]))
    assert b"".join(download.streaming_content) == LOG
    assert download["Content-Disposition"] == f'attachment; filename="{paths.COMPILATION_LOG}"'


def test_match_logs_are_shown_readably_and_downloaded_as_written(alice_client, alice, site):
    champion = ready_champion(alice)
    match = finished_match(alice, [champion, champion])
    first = match.players.first()
    write_file(match_file(site, match, f"attempt-1/{paths.SERVER_LOG}"), LOG)
    write_file(match_file(site, match, f"attempt-1/{first.log_name()}"), LOG[::-1])

    detail = alice_client.get(reverse("match-detail", args=[match.pk])).content.decode()
    for name, args in (("match-server-log", [match.pk]),
                       ("match-player-log", [match.pk, first.pk])):
        assert reverse(name, args=args) in detail
    assert_shown(alice_client.get(reverse("match-server-log", args=[match.pk])).content.decode())
    player_page = alice_client.get(reverse("match-player-log", args=[match.pk, first.pk]))
    assert not RAW & set(player_page.content.decode())
    assert r'<span class="ctl">\x00</span>' in player_page.content.decode()
    for name, args, data in (("match-server-log-download", [match.pk], LOG),
                             ("match-player-log-download", [match.pk, first.pk], LOG[::-1])):
        download = alice_client.get(reverse(name, args=args))
        assert b"".join(download.streaming_content) == data
        assert download["Content-Disposition"].startswith("attachment;")


def test_a_log_cut_at_its_beginning_says_so(alice_client, alice, site):
    champion = ready_champion(alice)
    write_file(champion_file(site, champion, f"attempt-1/{paths.COMPILATION_LOG}"),
               b"\x1b[31m" + b"x" * (300 * 1024) + b"\x1b[0m\x00the end\n")
    page = alice_client.get(reverse("champion-log", args=[champion.pk])).content.decode()
    assert "[… beginning cut …]\nxxx" in page
    assert page.count("x") >= 256 * 1024 - 20
    assert r'<span class="ctl">\x00</span>the end' in page
