"""Every refusal of the site has an API twin: the same rule function refuses both.

Each case makes the situation once, then asks the site (a logged-in browser) and the API
(a token) for the same thing, and checks both refuse it with the same reason.
"""

import json

import pytest
from django.test import Client
from django.urls import reverse

from stechec.contest.models import Champion, Match, Tournament
from tests.www.api_helpers import token_client
from tests.www.helpers import finished_match, make_tgz, ready_champion, text, upload_file

pytestmark = pytest.mark.django_db


def site_upload(client, data, name="mine"):
    return client.post(reverse("champion-new"), {"name": name, "sources": upload_file(data)})


def api_upload(client, data, name="mine"):
    return client.post(reverse("api-champions"), {"name": name, "sources": upload_file(data)})


def site_match(client, *champions):
    return client.post(reverse("match-new"), {f"champion_{n}": c for n, c in
                                              enumerate(champions, 1)})


def api_match(client, *champions):
    return client.post(reverse("api-matches"), json.dumps({"champions": list(champions)}),
                       content_type="application/json")


def _setuid(info):
    info.mode = 0o4755
    info.size = 0


def test_upload_rate_is_refused_by_both_and_the_api_says_when_to_retry(alice_client, alice,
                                                                       site):
    site["website"]["uploads_per_minute"] = 1
    api = token_client(alice)
    assert api_upload(api, make_tgz()).status_code == 201

    page = site_upload(alice_client, make_tgz())
    answer = api_upload(api, make_tgz())

    assert "the limit is 1 a minute" in text(page)
    assert answer.status_code == 429
    assert "the limit is 1 a minute" in answer.json()["detail"]
    assert 1 <= int(answer["Retry-After"]) <= 60
    assert Champion.objects.count() == 1


@pytest.mark.parametrize(("data", "reason"), [
    (make_tgz(raw=b"this is not an archive"), "not a gzip-compressed tar archive"),
    (make_tgz({"main.c": b"int x;\n", "tool": _setuid}), "files with the setuid bit"),
    (make_tgz({"../../escape": b"x"}), "'..' are not accepted"),
])
def test_a_refused_archive_is_refused_by_both(alice_client, alice, site, data, reason):
    page = site_upload(alice_client, data)
    answer = api_upload(token_client(alice), data)

    assert reason in text(page)
    assert answer.status_code == 400
    assert reason in " ".join(answer.json()["errors"]["sources"])
    assert not Champion.objects.exists()


def test_matches_in_flight_are_refused_by_both(alice_client, alice, site):
    site["website"]["matches_in_flight_per_user"] = 1
    champion = ready_champion(alice)
    api = token_client(alice)
    assert api_match(api, champion.pk, champion.pk).status_code == 201

    page = site_match(alice_client, champion.pk, champion.pk)
    answer = api_match(api, champion.pk, champion.pk)

    assert "the limit is 1" in text(page)
    assert answer.status_code == 429 and "the limit is 1" in answer.json()["detail"]
    # It depends on matches ending, not on time: no Retry-After.
    assert "Retry-After" not in answer
    assert Match.objects.count() == 1


def test_another_players_champion_is_refused_by_both_when_own_champions_only(
        alice_client, alice, bob, site):
    site["website"]["own_champions_only"] = True
    mine, theirs = ready_champion(alice), ready_champion(bob)

    page = site_match(alice_client, mine.pk, theirs.pk)
    answer = api_match(token_client(alice), mine.pk, theirs.pk)

    assert f"No ready champion is '{theirs.pk}'" in text(page)
    assert answer.status_code == 400
    assert f"No ready champion is '{theirs.pk}'" in answer.json()["errors"]["champion_2"][0]
    assert not Match.objects.exists()


def _refused_by_both(alice_client, alice, site_url, api_url, status, reason,
                     methods=("get", "get")):
    page = getattr(alice_client, methods[0])(site_url)
    answer = getattr(token_client(alice), methods[1])(api_url)
    assert (page.status_code, answer.status_code) == (status, status)
    assert reason in text(page) and reason in answer.json()["detail"]


def test_another_players_sources_are_refused_by_both(alice_client, alice, bob):
    theirs = ready_champion(bob)
    _refused_by_both(alice_client, alice, reverse("champion-sources", args=[theirs.pk]),
                     reverse("api-champion-sources", args=[theirs.pk]), 403,
                     "Only the champion's author can see this.")
    _refused_by_both(alice_client, alice, reverse("champion-log-download", args=[theirs.pk]),
                     reverse("api-champion-log", args=[theirs.pk]), 403,
                     "Only the champion's author can see this.")


def test_deleting_another_players_champion_is_refused_by_both(alice_client, alice, bob):
    theirs = ready_champion(bob)
    _refused_by_both(alice_client, alice, reverse("champion-delete", args=[theirs.pk]),
                     reverse("api-champion", args=[theirs.pk]), 403,
                     "Only the champion's author can delete it.", methods=("post", "delete"))
    assert not Champion.objects.get().deleted


def test_a_deleted_champion_is_gone_for_both(alice_client, alice):
    mine = ready_champion(alice, deleted=True)
    _refused_by_both(alice_client, alice, reverse("champion-detail", args=[mine.pk]),
                     reverse("api-champion", args=[mine.pk]), 404, "No such champion.")


def test_other_players_match_outputs_are_refused_by_both(alice_client, alice, bob):
    match = finished_match(bob, [ready_champion(bob), ready_champion(bob)])
    player = match.players.first()
    reason = "Only the match's author, its players' authors and the organisers can see this."
    for site_name, api_name in [("match-server-log-download", "api-match-log"),
                                ("match-dump", "api-match-dump"),
                                ("match-replay", "api-match-replay")]:
        _refused_by_both(alice_client, alice, reverse(site_name, args=[match.pk]),
                         reverse(api_name, args=[match.pk]), 403, reason)
    _refused_by_both(alice_client, alice,
                     reverse("match-player-log-download", args=[match.pk, player.pk]),
                     reverse("api-match-player-log", args=[match.pk, player.pk]), 403,
                     "Only the champion's author can see its log.")


def test_creating_a_tournament_is_for_staff_on_both(alice_client, alice, bob):
    page = alice_client.post(reverse("tournament-new"), {"name": "mine",
                                                         "format": "round_robin"})
    answer = token_client(alice).post(
        reverse("api-tournaments"), json.dumps({"name": "mine", "format": "round_robin"}),
        content_type="application/json")
    assert (page.status_code, answer.status_code) == (403, 403)
    assert "Only organisers" in text(page) and "Only organisers" in answer.json()["detail"]
    assert not Tournament.objects.exists()


def test_a_refused_tournament_says_why_on_both(staff):
    site = Client()
    site.force_login(staff)
    entered = [ready_champion(staff).pk]
    page = site.post(reverse("tournament-new"), {"name": "cup", "format": "round_robin",
                                                 "champions": str(entered[0])})
    answer = token_client(staff, ["staff"]).post(
        reverse("api-tournaments"), json.dumps({"name": "cup", "format": "round_robin",
                                                "champions": entered}),
        content_type="application/json")
    assert answer.status_code == 400
    reason = answer.json()["detail"]
    assert reason[:1].upper() + reason[1:] in text(page)
    assert not Tournament.objects.exists()
