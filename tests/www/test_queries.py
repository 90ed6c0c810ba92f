"""List pages run the same number of queries whatever their size."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stechec.contest.models import (
    Map,
    Match,
    MatchPlayer,
    Tournament,
    TournamentMap,
    TournamentPlayer,
)
from tests.www.helpers import STATUS, ready_champion

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowd(alice, bob):
    """Many champions, maps, matches and tournaments, each with distinct authors."""
    users = [alice, bob] + [type(alice).objects.create_user(f"user{n}") for n in range(10)]
    champions = [ready_champion(users[n % len(users)], f"c{n}") for n in range(30)]
    board = Map.objects.create(author=bob, name="board", contents="x")
    tournament = Tournament.objects.create(name="cup")
    for n in range(30):
        match = Match.launch([champions[n], champions[(n + 1) % 30]], author=users[n % 12],
                             map=board if n % 2 else None,
                             tournament=tournament if n % 3 == 0 else None)
        MatchPlayer.objects.filter(match=match).update(score=n)
    for n in range(12):
        Map.objects.create(author=users[n], name=f"map{n}", contents="x")
        Tournament.objects.create(name=f"t{n}")
    TournamentPlayer.objects.bulk_create(
        TournamentPlayer(tournament=tournament, champion=c, score=n % 4)
        for n, c in enumerate(champions))
    return {"champion": champions[0], "match": Match.objects.first(), "tournament": tournament}


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


# Session and user, then the page's rows (and the players of the matches shown).
@pytest.mark.parametrize(("page", "expected"), [
    ("champion-list", 3), ("champion-mine", 3), ("match-list", 4), ("match-mine", 4),
    ("map-list", 3), ("tournament-list", 3),
])
@pytest.mark.parametrize("page_size", [3, 25])
def test_list_pages_run_constant_queries(alice_client, site, crowd, django_assert_num_queries,
                                         page, expected, page_size):
    site["website"]["page_size"] = page_size
    with django_assert_num_queries(expected):
        response = alice_client.get(reverse(page))
    assert len(response.context["page"].items) > 1


def test_filtered_match_lists_and_detail_pages_run_constant_queries(alice_client, site, crowd):
    urls = [reverse("match-list") + f"?champion={crowd['champion'].pk}",
            reverse("match-list") + "?author=bob",
            reverse("match-list") + f"?tournament={crowd['tournament'].pk}"]
    for url in urls:
        site["website"]["page_size"] = 1
        small = queries(alice_client, url)
        site["website"]["page_size"] = 25
        assert queries(alice_client, url) == small, url


def test_detail_pages_stay_small(alice_client, crowd, django_assert_max_num_queries):
    for url in (reverse("champion-detail", args=[crowd["champion"].pk]),
                reverse("match-detail", args=[crowd["match"].pk]),
                reverse("tournament-detail", args=[crowd["tournament"].pk]),
                reverse("home")):
        with django_assert_max_num_queries(8):
            assert alice_client.get(url).status_code == 200


def grow_contest(alice, probe, count):
    """`count` more of everything the pages show: users, each with champions (rated and
    not), done matches against the probe champion (rated, and in the probe tournament),
    maps and tournaments. Returns the probe objects, made on the first call."""
    User = type(alice)
    first = User.objects.count()
    users = [User.objects.create_user(f"grow{first + n}") for n in range(count)]
    board = Map.objects.filter(name="probe board").first() or Map.objects.create(
        author=alice, name="probe board", contents="x")
    cup = Tournament.objects.filter(name="probe cup").first() or Tournament.objects.create(
        name="probe cup", status=Tournament.Status.RUNNING)
    TournamentMap.objects.get_or_create(tournament=cup, map=board)
    TournamentPlayer.objects.get_or_create(tournament=cup, champion=probe)
    for n, user in enumerate(users):
        mine = ready_champion(alice, f"mine{first + n}", rating=n, rated_games=1)
        theirs = ready_champion(user, f"theirs{first + n}", rating=n, rated_games=1)
        ready_champion(user, "unrated")
        for champion in (mine, theirs):
            TournamentPlayer.objects.create(tournament=cup, champion=champion)
        for author, rival in ((alice, mine), (user, theirs)):
            match = Match.launch([probe, rival], author=author, map=board, tournament=cup)
            Match.objects.filter(pk=match.pk).update(status=Match.Status.DONE,
                                                     rated_seq=match.pk)
            MatchPlayer.objects.filter(match=match).update(score=n % 3, rating_mu=25.0 + n,
                                                           rating_sigma=8.0)
        Map.objects.create(author=user, name=f"map{first + n}", contents="x")
        Tournament.objects.create(name=f"t{first + n}")
    return board, cup, Match.objects.filter(players__champion=probe).order_by("id").first()


# Every page tools/bench-www times, and every other page a player reads.
def contest_urls(probe, board, cup, match):
    return [reverse("home"), reverse("champion-list"), reverse("champion-list") + "?page=2",
            reverse("champion-mine"), reverse("champion-detail", args=[probe.pk]),
            reverse("champion-rating", args=[probe.pk]), reverse("match-list"),
            reverse("match-mine"), reverse("match-list") + f"?champion={probe.pk}",
            reverse("match-list") + "?author=alice",
            reverse("match-list") + f"?tournament={cup.pk}",
            reverse("match-detail", args=[match.pk]), reverse("map-list"),
            reverse("map-detail", args=[board.pk]), reverse("tournament-list"),
            reverse("tournament-detail", args=[cup.pk]),
            reverse("tournament-standings-csv", args=[cup.pk]),
            reverse("tournament-matrix-csv", args=[cup.pk]), reverse("leaderboard")]


# The public results a visitor reads (website.public_results).
def public_urls(probe, board, cup, match):
    return [reverse("leaderboard"), reverse("champion-rating", args=[probe.pk]),
            reverse("tournament-list"), reverse("tournament-detail", args=[cup.pk]),
            reverse("match-list") + f"?tournament={cup.pk}",
            reverse("match-detail", args=[match.pk])]


def test_pages_run_the_same_queries_on_a_database_three_times_larger(alice, alice_client,
                                                                    site):
    site["website"]["page_size"] = 4
    probe = ready_champion(alice, "probe", rating=1.0, rated_games=1)
    objects = grow_contest(alice, probe, 3)
    visitor = Client()

    def count():
        return ({url: queries(alice_client, url) for url in contest_urls(probe, *objects)},
                {url: queries(visitor, url) for url in public_urls(probe, *objects)})

    small = count()
    grow_contest(alice, probe, 6)
    assert count() == small


# Session and user; for staff, the failure rates' three (the newest match, by language,
# by worker). The rest is the master's.
@pytest.mark.parametrize("many", [False, True])
def test_the_status_page_runs_constant_queries(client, staff, alice, fake_master, request,
                                               many):
    if many:
        request.getfixturevalue("crowd")
    fake_master(STATUS)
    client.force_login(staff)
    assert queries(client, reverse("cluster-status")) == 5
    client.force_login(alice)
    assert queries(client, reverse("cluster-status")) == 2
