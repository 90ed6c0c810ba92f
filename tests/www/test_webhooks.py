"""Webhooks: events queued by the core's real transitions, sent by the sender to real HTTP
receivers on loopback (healthy, failing, hanging, slow), signed, once per event."""

import hmac
import time

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from stechec.common import tasks
from stechec.common.tasks import Kind
from stechec.contest import tournaments, transitions, webhook_sender
from stechec.contest.models import Champion, Match, Webhook, WebhookDelivery
from stechec.contest.webhook_sender import Sender
from stechec.www.contest import webhooks
from tests.tournaments.results import finish
from tests.www.api_helpers import token_client
from tests.www.helpers import ready_champion, text
from tests.www.webhook_receiver import PATIENCE_SECS

pytestmark = pytest.mark.django_db

EVERY_EVENT = [event.value for event in Webhook.Event]


def verify(secret, timestamp, body, signature):
    """The check docs/webhooks.md tells receivers to make."""
    expected = hmac.new(secret.encode(), timestamp.encode() + b"\n" + body, "sha256").hexdigest()
    return hmac.compare_digest(expected, signature)


@pytest.fixture(autouse=True)
def english():
    """The refusals are checked in English, whatever language an earlier test left active
    in this thread."""
    with translation.override("en"):
        yield


@pytest.fixture
def sender():
    made = []

    def make(**settings):
        made.append(Sender(**{"timeout": 30.0, "first_delay": 0.01, **settings}))
        return made[-1]

    yield make
    for one in made:
        one.close()


def hook(user, receiver, events=EVERY_EVENT, **options):
    """A webhook of `user`'s to `receiver`, made as the account page makes it."""
    return webhooks.create(user, receiver.url, events, **options)


def wait_until(condition, sender):
    deadline = time.monotonic() + PATIENCE_SECS
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        sender.step(0.1)


def signed_by(receiver, secret):
    for _, _, _, headers, body in receiver.deliveries():
        assert verify(secret, headers["X-Stechec-Timestamp"], body,
                      headers["X-Stechec-Signature"])
    return True


def apply_compilation(champion, status="ready", attempt=1):
    """Apply a worker's compilation result through the master's code."""
    with transaction.atomic():
        return transitions.apply_results(
            [(Kind.COMPILE, champion.pk, attempt, {"status": status, "language": "python"})],
            max_tries=3)


def compiled(champion, status="ready"):
    """Compile `champion`: its attempt 1 claimed, then its result applied."""
    Champion.objects.filter(pk=champion.pk).update(status="pending", attempts=1)
    return apply_compilation(champion, status)


def delivered(webhook):
    return WebhookDelivery.objects.filter(webhook=webhook)


def test_compilation_and_match_results_reach_the_players_signed_once_each(
        alice, bob, receivers, sender):
    mine, theirs = receivers(), receivers()
    alice_hook, alice_secret = hook(alice, mine)
    bob_hook, bob_secret = hook(bob, theirs, [Webhook.Event.MATCH_FINISHED])
    champion = Champion.objects.create(name="mine", author=alice)
    assert compiled(champion) == [tasks.APPLIED]
    # The same result again (its acknowledgement lost) changes nothing, queues nothing.
    assert apply_compilation(champion) == [tasks.REPEATED]
    match = Match.launch([Champion.objects.get(pk=champion.pk), ready_champion(bob)],
                         author=alice)
    finish(match, [3, 1])

    sender().drain()
    assert [(event, body) for _, event, body, _, _ in mine.deliveries()] == [
        ("champion.compiled", {"event": "champion.compiled", "data": {"champion": {
            "id": champion.pk, "name": "mine", "status": "ready", "language": "python",
            "author": "alice"}}}),
        ("match.finished", {"event": "match.finished", "data": {"match": {
            "id": match.pk, "status": "done", "fault": "", "failure_reason": "",
            "tournament": None, "players": [
                {"champion": champion.pk, "name": "mine", "author": "alice", "score": 3,
                 "nb_timeout": 0},
                {"champion": match.players.order_by("id")[1].champion_id, "name": "champ",
                 "author": "bob", "score": 1, "nb_timeout": 0}]}}})]
    # Bob hears of the match alone: he listens to nothing else.
    assert [event for _, event, _, _, _ in theirs.deliveries()] == ["match.finished"]
    assert signed_by(mine, alice_secret) and signed_by(theirs, bob_secret)
    assert {d.status for d in WebhookDelivery.objects.all()} == {"delivered"}
    assert [d.pk for d in delivered(alice_hook).order_by("id")] == \
        [pk for pk, _, _, _, _ in mine.deliveries()]


def test_a_wrong_secret_does_not_verify(alice, receivers, sender):
    receiver = receivers()
    hook(alice, receiver)
    compiled(Champion.objects.create(name="mine", author=alice), status="error")
    sender().drain()
    [(_, event, body, headers, raw)] = receiver.deliveries()
    assert body["data"]["champion"]["status"] == "error"
    assert not verify("another secret", headers["X-Stechec-Timestamp"], raw,
                      headers["X-Stechec-Signature"])


def test_a_failing_endpoint_gets_each_event_once_after_it_recovers(alice, receivers, sender):
    receiver = receivers(["fail", "fail"])
    webhook, _ = hook(alice, receiver)
    compiled(Champion.objects.create(name="mine", author=alice))
    one = sender()
    wait_until(lambda: not delivered(webhook).filter(status="pending").exists(), one)
    [delivery] = delivered(webhook)
    assert (delivery.status, delivery.attempts, delivery.last_http_status) == \
        ("delivered", 3, 200)
    # Three requests, one delivery: the same id each time, the last one answered 200.
    assert [pk for pk, _, _, _, _ in receiver.deliveries()] == [delivery.pk] * 3


def test_a_failure_is_recorded_with_the_endpoint_s_answer_and_retried_later(
        alice, receivers, sender):
    receiver = receivers(["fail"])
    webhook, _ = hook(alice, receiver)
    compiled(Champion.objects.create(name="mine", author=alice))
    sender(first_delay=3600).drain()
    [delivery] = delivered(webhook)
    assert (delivery.status, delivery.attempts, delivery.last_http_status) == \
        ("pending", 1, 500)
    assert delivery.last_error == "HTTP 500 Internal Server Error: refused"
    # Its retry is not due yet: a second pass sends nothing.
    sender().drain()
    assert len(receiver.requests) == 1


def test_an_endpoint_that_times_out_is_retried_and_gets_the_event_once(
        alice, receivers, sender):
    receiver = receivers(["hang"])
    webhook, _ = hook(alice, receiver)
    compiled(Champion.objects.create(name="mine", author=alice))
    one = sender(timeout=1.0)
    wait_until(lambda: delivered(webhook).filter(attempts=1, last_error__contains="timed out")
               .exists(), one)
    receiver.release.set()
    wait_until(lambda: delivered(webhook).filter(status="delivered").exists(), one)
    [delivery] = delivered(webhook)
    assert delivery.attempts == 2
    assert [pk for pk, _, _, _, _ in receiver.deliveries()] == [delivery.pk] * 2


def test_a_slow_endpoint_within_the_timeout_gets_it_at_the_first_try(alice, receivers,
                                                                     sender):
    receiver = receivers(["slow"])
    webhook, _ = hook(alice, receiver)
    compiled(Champion.objects.create(name="mine", author=alice))
    sender().drain()
    [delivery] = delivered(webhook)
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_a_hanging_endpoint_does_not_hold_up_the_others(alice, bob, receivers, sender):
    """Alice's endpoint hangs on her first event; Bob's gets all of his meanwhile, and
    Alice's backlog holds one request in flight, not every thread."""
    stuck, healthy = receivers(["hang"]), receivers()
    alice_hook, _ = hook(alice, stuck)
    bob_hook, _ = hook(bob, healthy)
    carol = User.objects.create_user("carol")
    # Alice's backlog first: the oldest due deliveries are all hers.
    for player in (alice, alice, alice, bob, bob, bob):
        finish(Match.launch([ready_champion(player), ready_champion(carol)]), [1, 0])
    one = sender(threads=2)
    wait_until(lambda: delivered(bob_hook).filter(status="delivered").count() == 3, one)
    assert stuck.hanging.is_set() and len(stuck.requests) == 1
    assert one.in_flight == 1
    assert set(delivered(alice_hook).values_list("status", flat=True)) == {"pending"}
    stuck.release.set()
    wait_until(lambda: delivered(alice_hook).filter(status="delivered").count() == 3, one)
    assert len(stuck.requests) == 3


def test_a_delivery_past_the_give_up_time_ends_failed(alice, receivers, sender):
    receiver = receivers(["fail"])
    webhook, _ = hook(alice, receiver)
    compiled(Champion.objects.create(name="mine", author=alice))
    sender(give_up=0.001).drain()
    [delivery] = delivered(webhook)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.finished_at is not None and "HTTP 500" in delivery.last_error


def test_a_platform_failure_and_a_failed_match_are_events_too(alice, bob, receivers, sender):
    receiver = receivers()
    webhook, _ = hook(alice, receiver)
    champion = Champion.objects.create(name="mine", author=alice)
    Champion.objects.filter(pk=champion.pk).update(status="pending", attempts=3)
    with transaction.atomic():
        transitions.give_back([(Kind.COMPILE, champion.pk, 3)], "worker lost", 3, 0.0)
    finish(Match.launch([ready_champion(alice), ready_champion(bob)]), failed=True)
    sender().drain()
    events = [(event, body["data"]) for _, event, body, _, _ in receiver.deliveries()]
    assert events[0][0] == "champion.compiled"
    assert events[0][1]["champion"]["status"] == "failed"
    assert events[1][0] == "match.finished"
    assert (events[1][1]["match"]["status"], events[1][1]["match"]["fault"]) == \
        ("failed", "platform")


def test_a_result_given_back_for_a_retry_is_no_event(alice, receivers):
    hook(alice, receivers())
    champion = Champion.objects.create(name="mine", author=alice)
    Champion.objects.filter(pk=champion.pk).update(status="pending", attempts=1)
    with transaction.atomic():
        transitions.give_back([(Kind.COMPILE, champion.pk, 1)], "worker lost", 3, 0.0)
    assert not WebhookDelivery.objects.exists()


def test_a_finished_tournament_tells_each_player_the_podium_and_their_place(
        alice, bob, staff, receivers, sender):
    others = [User.objects.create_user(f"p{i}") for i in range(3)]
    players = [alice, bob, *others]
    champions = [ready_champion(user, f"c-{user.username}") for user in players]
    tournament = tournaments.create("Cup", "round_robin", [c.pk for c in champions], [],
                                    nb_players=2)
    tournaments.launch(tournament)
    # The older champion wins: ranks follow the champions' ids, the last player's fifth.
    for match in Match.objects.filter(tournament=tournament):
        seats = [p.champion_id for p in match.players.order_by("id")]
        finish(match, [int(pk == min(seats)) for pk in seats])
    mine, everyone = receivers(), receivers()
    hook(others[-1], mine, [Webhook.Event.TOURNAMENT_FINISHED])
    hook(staff, everyone, [Webhook.Event.TOURNAMENT_FINISHED], contest_wide=True)
    with transaction.atomic():
        assert tournaments.advance(tournament.pk) == 1
    sender().drain()
    [(_, _, staff_body, _, _)] = everyone.deliveries()
    standings = staff_body["data"]["tournament"]["standings"]
    assert len(standings) == 5 and staff_body["data"]["tournament"]["nb_champions"] == 5
    [(_, event, body, _, _)] = mine.deliveries()
    assert event == "tournament.finished"
    assert [(row["rank"], row["author"]) for row in standings] == \
        [(rank, user.username) for rank, user in enumerate(players, 1)]
    assert body["data"]["tournament"]["standings"] == standings[:3] + standings[4:]


def test_a_contest_wide_hook_hears_of_everyone_and_is_for_staff_only(
        alice, bob, staff, receivers, sender):
    receiver = receivers()
    with pytest.raises(webhooks.BadWebhook, match="Only organisers"):
        hook(alice, receiver, contest_wide=True)
    hook(staff, receiver, contest_wide=True)
    hook(staff, receivers())  # their own, hearing of nothing of theirs
    compiled(Champion.objects.create(name="a", author=alice))
    compiled(Champion.objects.create(name="b", author=bob))
    sender().drain()
    assert [body["data"]["champion"]["author"] for _, _, body, _, _ in receiver.deliveries()] \
        == ["alice", "bob"]
    # No longer staff: the contest-wide hook stops hearing of others, even beside its
    # owner's own champion.
    User.objects.filter(pk=staff.pk).update(is_staff=False)
    theirs, own = (Champion.objects.create(name=name, author=author, status="pending",
                                           attempts=1)
                   for name, author in (("c", bob), ("d", staff)))
    with transaction.atomic():
        transitions.apply_results([(Kind.COMPILE, c.pk, 1, {"status": "ready",
                                                            "language": "python"})
                                   for c in (theirs, own)], max_tries=3)
    assert [d.payload["champion"]["name"] for d in
            WebhookDelivery.objects.filter(status="pending").order_by("webhook", "id")] == \
        ["d", "d"]


def test_a_discord_hook_gets_a_message_in_words(alice, bob, receivers, sender):
    receiver = receivers()
    hook(alice, receiver, discord=True)
    match = Match.launch([ready_champion(alice, "mine"), ready_champion(bob, "theirs")])
    finish(match, [3, 1])
    sender().drain()
    [(_, event, body, _, _)] = receiver.deliveries()
    assert event == "match.finished"
    assert body == {"content": f"Match #{match.pk} done: mine (alice) 3, theirs (bob) 1"}


def test_a_discord_message_is_in_the_site_s_language(alice, bob, receivers, sender, settings):
    """A channel has no reader's language: the message takes the site's (LANGUAGE_CODE),
    whatever language is active where the sender runs (English here)."""
    settings.LANGUAGE_CODE = "fr"
    receiver = receivers()
    hook(alice, receiver, discord=True)
    match = Match.launch([ready_champion(alice, "mine"), ready_champion(bob, "theirs")])
    finish(match, [3, 1])
    champion = Champion.objects.create(name="bot", author=alice)
    compiled(champion, status="error")
    sender().drain()
    assert sorted(body["content"] for _, _, body, _, _ in receiver.deliveries()) == [
        f"Champion **bot** (n°{champion.pk}) de alice\xa0: compilation échouée",
        f"Match n°{match.pk} terminé\xa0: mine (alice) 3, theirs (bob) 1"]
    standings = [{"rank": 1, "name": "mine", "author": "alice", "points": 2.5}]
    assert webhook_sender.discord_text(Webhook.Event.TOURNAMENT_FINISHED, {
        "tournament": {"name": "Cup", "standings": standings}}) == \
        "Tournoi **Cup** terminé\xa0:\n1. mine (alice), 2,5 points"


def test_send_webhooks_once_delivers_what_is_due(alice, receivers):
    receiver = receivers()
    webhook, _ = hook(alice, receiver)
    compiled(Champion.objects.create(name="mine", author=alice))
    call_command("send_webhooks", "--once", "--timeout", "30")
    assert delivered(webhook).get().status == "delivered"
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("url", ["ftp://example.org/hook", "javascript:alert(1)", "http://",
                                 "example.org/hook", "http://exa mple.org/", "http://x:99999/",
                                 "file:///etc/passwd", ""])
def test_a_url_that_is_not_http_is_refused_with_one_clear_error(alice, url):
    with pytest.raises(webhooks.BadWebhook, match="http:// or https:// address"):
        webhooks.create(alice, url, EVERY_EVENT)
    assert not Webhook.objects.exists()


def test_unknown_events_and_too_many_hooks_are_refused(alice):
    with pytest.raises(webhooks.BadWebhook, match="events are some of"):
        webhooks.create(alice, "https://example.org/", ["match.started"])
    for i in range(webhooks.MAX_WEBHOOKS):
        webhooks.create(alice, f"https://example.org/{i}", EVERY_EVENT)
    with pytest.raises(webhooks.BadWebhook, match="at most"):
        webhooks.create(alice, "https://example.org/more", EVERY_EVENT)
    assert Webhook.objects.count() == webhooks.MAX_WEBHOOKS


def test_the_account_page_adds_shows_the_secret_once_lists_deliveries_and_deletes(
        alice_client, alice, bob, receivers, sender):
    receiver = receivers(["fail"])
    page = alice_client.post(reverse("webhook-new"), {
        "url": receiver.url, "events": EVERY_EVENT, "discord": ""})
    webhook = Webhook.objects.get(owner=alice)
    assert webhook.secret in text(page)
    assert page["Cache-Control"].startswith("max-age=0")
    later = text(alice_client.get(reverse("account")))
    assert receiver.url in later and webhook.secret not in later
    compiled(Champion.objects.create(name="mine", author=alice))
    sender(first_delay=3600).drain()
    page = text(alice_client.get(reverse("account")))
    assert "champion.compiled" in page and "HTTP 500 Internal Server Error: refused" in page
    # Bob cannot delete it; Alice can.
    bob_page = alice_client.__class__()
    bob_page.force_login(bob)
    assert bob_page.post(reverse("webhook-delete", args=[webhook.pk])).status_code == 404
    alice_client.post(reverse("webhook-delete", args=[webhook.pk]))
    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()


def test_the_account_page_refuses_a_bad_url_with_its_error(alice_client):
    page = alice_client.post(reverse("webhook-new"), {"url": "ftp://example.org/",
                                                      "events": EVERY_EVENT})
    assert "http:// or https:// address" in text(page)
    assert not Webhook.objects.exists()
    assert "contest_wide" not in text(alice_client.get(reverse("account")))


def test_the_api_registers_lists_and_deletes_hooks_under_the_same_rules(alice, bob, receivers,
                                                                        sender):
    api = token_client(alice)
    refused = api.post("/api/v1/webhooks/", {"url": "ftp://example.org/",
                                             "events": EVERY_EVENT}, content_type="application/json")
    assert refused.status_code == 400 and "http:// or https:// address" in refused.json()["detail"]
    refused = api.post("/api/v1/webhooks/", {"url": "https://example.org/", "events": EVERY_EVENT,
                                             "contest_wide": True},
                       content_type="application/json")
    assert refused.status_code == 400 and "Only organisers" in refused.json()["detail"]
    receiver = receivers()
    made = api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["champion.compiled"]},
                    content_type="application/json")
    assert made.status_code == 201
    hook_id, secret = made.json()["id"], made.json()["secret"]
    assert api.get("/api/v1/webhooks/").json() == [{
        key: value for key, value in made.json().items() if key != "secret"}]
    compiled(Champion.objects.create(name="mine", author=alice))
    sender().drain()
    assert signed_by(receiver, secret)
    [delivery] = api.get(f"/api/v1/webhooks/{hook_id}/deliveries/").json()
    assert (delivery["event"], delivery["status"], delivery["attempts"]) == \
        ("champion.compiled", "delivered", 1)
    assert token_client(bob).get(f"/api/v1/webhooks/{hook_id}/deliveries/").status_code == 404
    assert token_client(bob).delete(f"/api/v1/webhooks/{hook_id}/").status_code == 404
    assert token_client(alice, ["read"]).delete(f"/api/v1/webhooks/{hook_id}/").status_code \
        == 403
    assert api.delete(f"/api/v1/webhooks/{hook_id}/").status_code == 204
    assert not Webhook.objects.exists()


def test_a_url_the_sender_cannot_use_is_that_hook_s_failure_alone(alice, bob, receivers,
                                                                  sender):
    """A URL written past the site's check (by hand in the database) fails its delivery;
    the sender goes on with the others."""
    broken, _ = hook(alice, receivers())
    Webhook.objects.filter(pk=broken.pk).update(url="http://127.0.0.1:99999/")
    receiver = receivers()
    healthy, _ = hook(bob, receiver)
    finish(Match.launch([ready_champion(alice), ready_champion(bob)]), [1, 0])
    sender(first_delay=3600).drain()
    assert delivered(healthy).get().status == "delivered"
    failed = delivered(broken).get()
    assert (failed.status, failed.attempts) == ("pending", 1)
    assert failed.last_error.startswith("ValueError: Port out of range")


def test_a_disabled_hook_gets_nothing_more(alice, receivers, sender):
    """`active` is the admin's switch: what was queued ends failed, nothing new is queued."""
    receiver = receivers()
    webhook, _ = hook(alice, receiver)
    compiled(Champion.objects.create(name="queued", author=alice))
    Webhook.objects.filter(pk=webhook.pk).update(active=False)
    compiled(Champion.objects.create(name="later", author=alice))
    sender().drain()
    [delivery] = delivered(webhook)
    assert (delivery.status, delivery.last_error) == ("failed", "the webhook is disabled")
    assert receiver.requests == []


def test_staff_switch_a_hook_off_in_the_admin_without_seeing_its_secret(admin_client, alice,
                                                                       receivers, sender):
    webhook, secret = hook(alice, receivers())
    compiled(Champion.objects.create(name="mine", author=alice))
    page = admin_client.get(reverse("admin:stechec_webhook_change", args=[webhook.pk]))
    assert page.status_code == 200 and secret not in text(page)
    admin_client.post(reverse("admin:stechec_webhook_change", args=[webhook.pk]), {
        "url": webhook.url, "events": webhook.events, "active": ""})
    assert Webhook.objects.get().active is False
    listed = admin_client.get(reverse("admin:stechec_webhookdelivery_changelist"))
    assert "champion.compiled" in text(listed)
