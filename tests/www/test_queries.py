"""List pages run the same number of queries whatever their size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stechec.contest.models import Map, Match, MatchPlayer, Tournament, TournamentPlayer
from tests.www.helpers import ready_champion

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
