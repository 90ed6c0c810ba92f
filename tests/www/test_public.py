"""Public results (website.public_results): what a visitor without an account reads."""

import pytest
from django.urls import reverse

from stechec.common import config
from stechec.contest.models import Match, Tournament
from stechec.www import siteconfig
from tests.www.helpers import finished_match, ready_champion, text
from tests.www.test_matches import _outputs, body

pytestmark = pytest.mark.django_db


@pytest.fixture
def results(alice, bob, site):
    """A tournament with a finished match (outputs published), a match of it still
    running, and a match a player launched outside it."""
    mine, theirs = ready_champion(alice, "mine"), ready_champion(bob, "theirs")
    cup = Tournament.objects.create(name="Spring cup", status="running")
    for champion in (mine, theirs):
        cup.players.create(champion=champion, score=0)
    played = finished_match(None, [mine, theirs], tournament=cup)
    played.players.update(score=1)
    _outputs(site, played)
    running = Match.launch([theirs, mine], tournament=cup)
    private = finished_match(alice, [mine, theirs])
    _outputs(site, private)
    return {"cup": cup, "played": played, "running": running, "private": private,
            "champion": mine}


def public_urls(results):
    played = results["played"].pk
    return [reverse("leaderboard"), reverse("tournament-list"),
            reverse("tournament-detail", args=[results["cup"].pk]),
            reverse("tournament-standings-csv", args=[results["cup"].pk]),
            reverse("champion-rating", args=[results["champion"].pk]),
            reverse("match-list") + f"?tournament={results['cup'].pk}",
            reverse("match-detail", args=[played]), reverse("match-viewer", args=[played]),
            reverse("match-dump-json", args=[played]), reverse("match-dump", args=[played]),
            reverse("match-replay", args=[played])]


def private_urls(results):
    """Never for a visitor: sources, compile logs, player and server logs, other matches."""
    played, champion = results["played"], results["champion"].pk
    player = played.players.first().pk
    return [reverse("champion-list"), reverse("champion-detail", args=[champion]),
            reverse("champion-log", args=[champion]),
            reverse("champion-sources", args=[champion]),
            reverse("match-list"), reverse("match-mine") + f"?tournament={results['cup'].pk}",
            reverse("match-server-log", args=[played.pk]),
            reverse("match-server-log-download", args=[played.pk]),
            reverse("match-player-log", args=[played.pk, player]),
            reverse("match-player-log-download", args=[played.pk, player]),
            *(reverse(name, args=[results[which].pk])
              for which in ("running", "private")
              for name in ("match-detail", "match-viewer", "match-dump-json", "match-replay")),
            reverse("cluster-status"), reverse("map-list")]


def sends_to_login(response):
    return response.status_code == 302 and response["Location"].startswith(
        reverse("login") + "?next=")


def test_a_visitor_reads_the_results_without_an_account(client, results):
    for url in public_urls(results):
        assert client.get(url).status_code == 200, url
    for url in private_urls(results):
        assert sends_to_login(client.get(url)), url

    page = text(client.get(reverse("match-detail", args=[results["played"].pk])))
    assert "Replay" in page and reverse("match-viewer", args=[results["played"].pk]) in page
    assert "Server log" not in page and ">log</a>" not in page
    listed = text(client.get(reverse("match-list") + f"?tournament={results['cup'].pk}"))
    assert f'href="/matches/{results["played"].pk}/"' in listed
    assert f'href="/matches/{results["running"].pk}/"' not in listed
    menu = text(client.get(reverse("home")))
    assert 'href="/leaderboard/"' in menu and 'href="/tournaments/"' in menu


def test_a_logged_in_stranger_sees_public_replays_but_no_log(client, results):
    carol = type(results["champion"].author).objects.create_user("carol")
    client.force_login(carol)
    played = results["played"]
    assert body(client.get(reverse("match-replay", args=[played.pk]))) == b"replay bytes"
    assert client.get(reverse("match-viewer", args=[played.pk])).status_code == 200
    for url in (reverse("match-server-log", args=[played.pk]),
                reverse("match-player-log", args=[played.pk, played.players.first().pk]),
                reverse("champion-log", args=[results["champion"].pk]),
                reverse("match-replay", args=[results["private"].pk])):
        assert client.get(url).status_code == 403, url


def test_with_public_results_false_every_page_needs_an_account(client, results, site):
    site["website"]["public_results"] = False
    for url in public_urls(results) + private_urls(results):
        assert sends_to_login(client.get(url)), url
    menu = text(client.get(reverse("home")))
    assert 'href="/leaderboard/"' not in menu


def test_public_results_is_a_key_of_website_yml_misspelt_keys_named():
    parse = lambda yml: config.parse(  # noqa: E731
        "website:\n  secret_key: x\n" + yml + "sql: {engine: sqlite, database: x}\n"
        "master: {shared_secret: x}\ncontest: {game: tictactoe, directory: /tmp}\n",
        "website.yml", siteconfig.WEBSITE_SCHEMA, debug_key="website.debug")
    assert parse("")["website"]["public_results"] is True
    assert parse("  public_results: false\n")["website"]["public_results"] is False
    with pytest.raises(config.ConfigError, match=r"website.public_result: unknown key \(did "
                                                 r"you mean 'website.public_results'\?\)"):
        parse("  public_result: false\n")
    with pytest.raises(config.ConfigError, match="website.public_results"):
        parse("  public_results: maybe\n")
