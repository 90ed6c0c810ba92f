"""Log-in, permissions, CSRF and error pages, for every URL of the site."""

import pytest
from django.test import Client
from django.urls import path, reverse

from stechec.contest.models import Map, Match
from stechec.www import urls as site_urls
from tests.www.helpers import make_tgz, ready_champion, text, upload_file

pytestmark = pytest.mark.django_db


def every_private_url(champion, match, player, map, tournament_id=1):
    return [
        reverse("champion-list"), reverse("champion-mine"), reverse("champion-new"),
        reverse("champion-detail", args=[champion.pk]),
        reverse("champion-log", args=[champion.pk]),
        reverse("champion-log-download", args=[champion.pk]),
        reverse("champion-sources", args=[champion.pk]),
        reverse("champion-delete", args=[champion.pk]),
        reverse("match-list"), reverse("match-mine"), reverse("match-new"),
        reverse("match-detail", args=[match.pk]),
        reverse("match-server-log", args=[match.pk]),
        reverse("match-server-log-download", args=[match.pk]),
        reverse("match-player-log", args=[match.pk, player.pk]),
        reverse("match-player-log-download", args=[match.pk, player.pk]),
        reverse("match-dump", args=[match.pk]), reverse("match-replay", args=[match.pk]),
        reverse("map-list"), reverse("map-new"), reverse("map-detail", args=[map.pk]),
        reverse("map-official", args=[map.pk]),
        reverse("tournament-list"), reverse("tournament-detail", args=[tournament_id]),
        reverse("leaderboard"), reverse("champion-rating", args=[champion.pk]),
        reverse("cluster-status"), reverse("cluster-status-live"),
        reverse("champion-live", args=[champion.pk]), reverse("match-live", args=[match.pk]),
        reverse("tournament-live", args=[tournament_id]), reverse("match-champion-search"),
        reverse("password_change"), reverse("accounts-bulk"),
    ]


def test_without_public_results_every_page_but_home_and_login_needs_a_log_in(client, alice,
                                                                             site):
    # With public results (the default), tests/www/test_public.py says what a visitor reads.
    site["website"]["public_results"] = False
    champion = ready_champion(alice)
    match = Match.launch([champion, champion], author=alice)
    board = Map.objects.create(author=alice, name="m", contents="x")

    for url in every_private_url(champion, match, match.players.first(), board):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("login") + "?next="), url
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("login")).status_code == 200


def test_only_staff_mark_maps_official(client, alice, staff):
    board = Map.objects.create(author=alice, name="m", contents="x")
    url = reverse("map-official", args=[board.pk])

    client.force_login(alice)
    assert client.post(url, {"official": "1"}).status_code == 403
    board.refresh_from_db()
    assert not board.official

    client.force_login(staff)
    assert client.post(url, {"official": "1"}).status_code == 302
    board.refresh_from_db()
    assert board.official


def test_every_form_needs_its_csrf_token(alice, staff):
    champion = ready_champion(alice)
    board = Map.objects.create(author=alice, name="m", contents="x")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    posts = {
        reverse("champion-new"): {"name": "x", "sources": upload_file(make_tgz())},
        reverse("champion-delete", args=[champion.pk]): {},
        reverse("match-new"): {"champion_1": champion.pk, "champion_2": champion.pk},
        reverse("map-new"): {"name": "m", "contents": "x"},
        reverse("map-official", args=[board.pk]): {"official": "1"},
        reverse("logout"): {},
    }
    for url, data in posts.items():
        response = strict.post(url, data)
        assert response.status_code == 403, url
        assert "security token was missing" in text(response)
    assert Match.objects.count() == 0 and Map.objects.count() == 1

    # With the token from the form, the same request goes through.
    page = strict.get(reverse("map-new"))
    token = page.context["csrf_token"]
    response = strict.post(reverse("map-new"), {"name": "m2", "contents": "x",
                                                "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302


def test_unknown_pages_get_the_sites_404(alice_client):
    response = alice_client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Not found" in text(response) and "Resolver404" not in text(response)
    assert alice_client.get(reverse("champion-detail", args=[999])).status_code == 404


def test_a_404_message_ends_with_one_full_stop(client):
    page = text(client.get(reverse("register")))
    assert "<p>Accounts are created by the organisers.</p>" in page
    assert ".." not in page


def test_a_403_is_logged_in_one_line_not_a_traceback(client, alice, bob, caplog):
    client.force_login(bob)
    champion = ready_champion(alice)

    assert client.get(reverse("champion-log", args=[champion.pk])).status_code == 403

    logged = [r for r in caplog.records if r.name == "django.request"]
    assert [r.getMessage() for r in logged] == [
        f"Forbidden (Permission denied): /champions/{champion.pk}/log/"]
    assert logged[0].exc_info is None and logged[0].exc_text is None


HUGE = "9" * 30


@pytest.mark.parametrize("url", [
    f"/champions/{HUGE}/", f"/champions/?page={HUGE}", f"/champions/?page=-{HUGE}",
    f"/matches/{HUGE}/", f"/matches/?champion={HUGE}", f"/matches/?tournament={HUGE}",
    f"/matches/?author={HUGE}", f"/matches/new/?champion={HUGE}",
    f"/matches/new/?opponent={HUGE}", f"/matches/new/champions.json?q={HUGE}", f"/maps/{HUGE}/",
    f"/tournaments/{HUGE}/",
])
def test_absurd_numbers_in_urls_are_not_found_not_a_crash(alice, url):
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    assert client.get(url).status_code in (200, 404)


def test_absurd_champion_numbers_in_a_match_form_are_refused(alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    response = client.post(reverse("match-new"), {"champion_1": HUGE, "champion_2": "-1"})
    assert response.status_code == 200
    assert text(response).count("No ready champion is ") == 2


def crash(request):
    raise RuntimeError("secret internals in the traceback")


urlpatterns = [*site_urls.urlpatterns, path("crash/", crash)]


@pytest.mark.urls("tests.www.test_security")
def test_a_crash_shows_the_sites_500_page_without_traceback(alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice)

    response = client.get("/crash/")

    assert response.status_code == 500
    page = text(response)
    assert "Something went wrong" in page
    assert "secret internals" not in page and "Traceback" not in page


def test_self_registration_is_off_unless_configured(client, site):
    assert client.get(reverse("register")).status_code == 404
    assert "Register" not in text(client.get(reverse("login")))

    site["website"]["self_registration"] = True
    assert "Register" in text(client.get(reverse("login")))
    response = client.post(reverse("register"), {
        "username": "newcomer", "email": "n@example.org",
        "password1": "a long enough passphrase", "password2": "a long enough passphrase"})
    assert response.status_code == 302
    assert text(client.get(reverse("home"))).count("newcomer") >= 1


def test_log_in_and_out(client, alice):
    response = client.post(reverse("login"), {"username": "alice",
                                              "password": "alice-password"})
    assert response.status_code == 302
    assert "alice" in text(client.get(reverse("home")))
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("champion-list")).status_code == 302
