"""Live pages: the JSON state a waiting page polls, and what the pages carry to poll it."""

import json

import pytest
from django.urls import reverse

from stechec.contest.models import Champion, Match, Tournament
from tests.www.conftest import client_for
from tests.www.helpers import STATUS, ready_champion, text

pytestmark = pytest.mark.django_db


def live(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return json.loads(response.content)


def shown_state(client, page_url):
    """The state a page says it was rendered from (None when it is not live)."""
    page = text(client.get(page_url))
    if "data-live-state=" not in page:
        return None
    return page.split('data-live-state="', 1)[1].split('"', 1)[0]


def test_a_champion_s_state_changes_with_its_compilation_and_the_page_shows_the_same(
        alice_client, alice):
    champion = ready_champion(alice)
    Champion.objects.filter(pk=champion.pk).update(status=Champion.Status.NEW)
    url = reverse("champion-live", args=[champion.pk])
    page = reverse("champion-detail", args=[champion.pk])

    waiting = live(alice_client, url)
    assert waiting["live"] and waiting["state"] == shown_state(alice_client, page)

    Champion.objects.filter(pk=champion.pk).update(status=Champion.Status.PENDING, attempts=1)
    compiling = live(alice_client, url)
    assert compiling["live"] and compiling["state"] != waiting["state"]

    Champion.objects.filter(pk=champion.pk).update(status=Champion.Status.READY)
    ready = live(alice_client, url)
    assert not ready["live"] and ready["state"] not in (waiting["state"], compiling["state"])
    assert shown_state(alice_client, page) is None


def test_a_match_s_state_changes_until_it_is_done(alice_client, alice, bob):
    match = Match.launch([ready_champion(alice), ready_champion(bob)], author=alice)
    url = reverse("match-live", args=[match.pk])

    waiting = live(alice_client, url)
    assert waiting["live"]
    assert waiting["state"] == shown_state(alice_client, reverse("match-detail", args=[match.pk]))
    Match.objects.filter(pk=match.pk).update(status=Match.Status.PENDING, attempts=1)
    running = live(alice_client, url)
    assert running["live"] and running["state"] != waiting["state"]
    Match.objects.filter(pk=match.pk).update(status=Match.Status.DONE)
    done = live(alice_client, url)
    assert not done["live"] and done["state"] != running["state"]


def test_a_running_tournament_s_state_follows_its_matches(client, alice, bob):
    mine, theirs = ready_champion(alice, "mine"), ready_champion(bob, "theirs")
    cup = Tournament.objects.create(name="Spring cup", status=Tournament.Status.RUNNING)
    first = Match.launch([mine, theirs], tournament=cup)
    Match.launch([theirs, mine], tournament=cup)
    url = reverse("tournament-live", args=[cup.pk])

    # Public results: a visitor follows it too.
    before = live(client, url)
    assert before["live"]
    assert before["state"] == shown_state(client, reverse("tournament-detail", args=[cup.pk]))
    Match.objects.filter(pk=first.pk).update(status=Match.Status.DONE)
    after = live(client, url)
    assert after["live"] and after["state"] != before["state"]
    Tournament.objects.filter(pk=cup.pk).update(status=Tournament.Status.DONE)
    assert not live(client, url)["live"]


def test_the_state_of_private_things_stays_private(client, alice, bob, staff):
    champion = ready_champion(alice)
    Champion.objects.filter(pk=champion.pk).update(deleted=True)
    match = Match.launch([champion, ready_champion(bob)], author=alice)

    assert client.get(reverse("match-live", args=[match.pk])).status_code == 302
    assert client.get(reverse("champion-live", args=[champion.pk])).status_code == 302
    assert client.get(reverse("cluster-status-live")).status_code == 302
    client.force_login(bob)
    assert client.get(reverse("champion-live", args=[champion.pk])).status_code == 404
    client.force_login(staff)
    assert client.get(reverse("champion-live", args=[champion.pk])).status_code == 200


def test_the_status_state_ignores_ages_which_are_updated_in_place(client, staff, fake_master):
    client_for(client, staff)
    fake_master(STATUS)
    first = live(client, reverse("cluster-status-live"))
    page = text(client.get(reverse("cluster-status")))

    assert first["live"]
    assert f'data-live-state="{first["state"]}"' in page
    assert set(first["text"]) == {"heartbeat-1", "heartbeat-2", "running-2-1", "running-2-2",
                                  "oldest-waiting"}
    assert first["text"]["heartbeat-1"].endswith(" s ago")
    assert first["text"]["running-2-1"] == "1 min 15 s"
    assert first["text"]["oldest-waiting"] == "1 h 2 min"
    for element in first["text"]:
        assert f'id="{element}"' in page

    [busy, idle] = STATUS["workers"]
    fake_master({**STATUS, "queue": {**STATUS["queue"], "oldest_waiting_secs": 4000.0},
                 "workers": [dict(busy, last_heartbeat=busy["last_heartbeat"] - 60,
                                  running=[dict(t, seconds=t["seconds"] + 60)
                                           for t in busy["running"]]), idle]})
    older = live(client, reverse("cluster-status-live"))
    assert older["state"] == first["state"] and older["text"] != first["text"]
    assert older["text"]["running-2-1"] == "2 min 15 s"

    fake_master({**STATUS, "queue": {**STATUS["queue"], "champions": {"new": 4}}})
    assert live(client, reverse("cluster-status-live"))["state"] != first["state"]
