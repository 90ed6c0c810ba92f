import pytest
from django.urls import reverse

from stechec.www.contest.models import Champion, Map, Match, MatchPlayer
from tests.www.helpers import finished_match, ready_champion

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


def act(client, model, action, objects):
    url = reverse(f"admin:stechec_{model}_changelist")
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objects]},
                       follow=True)


def test_every_model_has_an_admin_page(admin_client):
    for model in ("champion", "match", "matchplayer", "map", "tournament"):
        assert admin_client.get(reverse(f"admin:stechec_{model}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:stechec_{model}_add")).status_code == 200


def test_recompile_requeues_finished_champions_only(admin_client, alice):
    broken = ready_champion(alice, "broken")
    Champion.objects.filter(pk=broken.pk).update(status=Champion.Status.FAILED,
                                                 failure_reason="worker lost")
    compiling = ready_champion(alice, "compiling")
    Champion.objects.filter(pk=compiling.pk).update(status=Champion.Status.PENDING)

    response = act(admin_client, "champion", "recompile", [broken, compiling])

    assert "1 champion(s) queued for compilation" in response.content.decode()
    broken.refresh_from_db()
    compiling.refresh_from_db()
    assert (broken.status, broken.failure_reason) == ("new", "")
    assert compiling.status == "pending"


def test_rerun_clears_results_and_requeues(admin_client, alice):
    champion = ready_champion(alice)
    done = finished_match(alice, [champion, champion], failure_reason="")
    MatchPlayer.objects.filter(match=done).update(score=5, nb_timeout=1, exit_status=0)
    running = Match.launch([champion, champion], author=alice)

    response = act(admin_client, "match", "rerun", [done, running])

    assert "1 match(es) queued again" in response.content.decode()
    done.refresh_from_db()
    assert done.status == "new" and done.finished_at is None
    assert list(done.players.values_list("score", "nb_timeout", "exit_status")) == \
        [(None, 0, None)] * 2


def test_mark_maps_official(admin_client, alice):
    board = Map.objects.create(author=alice, name="m", contents="x")
    act(admin_client, "map", "mark_official", [board])
    board.refresh_from_db()
    assert board.official
    act(admin_client, "map", "mark_unofficial", [board])
    board.refresh_from_db()
    assert not board.official


def test_searching_the_lists(admin_client, alice):
    champion = ready_champion(alice, "findme")
    match = finished_match(alice, [champion, champion])
    url = reverse("admin:stechec_champion_changelist")
    assert "findme" in admin_client.get(url, {"q": "find"}).content.decode()
    url = reverse("admin:stechec_match_changelist")
    for query in (str(match.pk), "alice", "not a number"):
        assert admin_client.get(url, {"q": query}).status_code == 200
