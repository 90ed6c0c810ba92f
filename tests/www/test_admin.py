import pytest
from django.urls import reverse

from stechec.contest import tournaments
from stechec.contest.models import Champion, Map, Match, MatchPlayer, Tournament
from tests.www.helpers import finished_match, ready_champion, text

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


def changelist(client, model, **query):
    """The admin list of `model` (filtered by `query`): the page, its column titles, its rows."""
    response = client.get(reverse(f"admin:stechec_{model}_changelist"), query)
    assert response.status_code == 200
    headers = {h["text"] for h in response.context["result_headers"]}
    return text(response), headers, list(response.context["cl"].result_list)


def test_champions_list_their_ratings_which_only_the_master_writes(admin_client, alice):
    champion = ready_champion(alice, "rated")
    Champion.objects.filter(pk=champion.pk).update(rating=12.512345678, rating_mu=30.0,
                                                   rating_sigma=5.0049, rated_games=7)
    page, headers, _ = changelist(admin_client, "champion")
    assert {"rating", "rated games"} <= headers
    # Rounded: a rating's 17 digits mean nothing to a reader.
    assert '<td class="field-rating">12.51</td>' in page
    assert '<td class="field-rated_games">7</td>' in page

    url = reverse("admin:stechec_champion_change", args=[champion.pk])
    page = text(admin_client.get(url))
    assert 'name="name"' in page and 'name="rating_mu"' not in page
    assert "30.00" in page and "5.00" in page and "5.0049" not in page
    response = admin_client.post(url, {"name": "renamed", "author": alice.pk,
                                       "status": "ready", "language": "python",
                                       "attempts": 0, "rating_mu": 99, "rated_games": 0})
    assert response.status_code == 302
    champion.refresh_from_db()
    assert (champion.name, champion.rating_mu, champion.rated_games) == ("renamed", 30.0, 7)


def test_match_players_show_their_ratings_rounded(admin_client, alice):
    match = finished_match(alice, [ready_champion(alice)])
    match.players.update(rating_mu=27.123456789, rating_sigma=7.98765)
    page, _, _ = changelist(admin_client, "matchplayer")
    assert '<td class="field-rating_mu">27.12</td>' in page
    assert '<td class="field-rating_sigma">7.99</td>' in page


def test_matches_filter_on_ladder_tournament_and_fault(admin_client, alice):
    champions = [ready_champion(alice, f"c{i}") for i in range(2)]
    played = finished_match(alice, champions, rated_seq=1)
    ladder = finished_match(None, champions, ladder=True, fault=Match.Fault.CHAMPION)
    tournament = tournaments.create("Cup", "round_robin", [c.pk for c in champions], [],
                                    nb_players=2)
    tournaments.launch(tournament)
    cup = list(Match.objects.filter(tournament=tournament).order_by("pk"))

    _, headers, rows = changelist(admin_client, "match")
    assert {"round", "ladder", "fault", "rated seq"} <= headers
    assert len(rows) == 4
    assert changelist(admin_client, "match", ladder__exact=1)[2] == [ladder]
    assert changelist(admin_client, "match", fault__exact="champion")[2] == [ladder]
    assert sorted(changelist(admin_client, "match", tournament__isempty=0)[2],
                  key=lambda m: m.pk) == cup
    assert sorted(changelist(admin_client, "match", tournament__isempty=1)[2],
                  key=lambda m: m.pk) == [played, ladder]
    page = text(admin_client.get(reverse("admin:stechec_match_change", args=[played.pk])))
    assert 'name="rated_seq"' not in page and 'name="ladder"' in page
    # The master writes a match's fault with its result.
    assert 'name="fault"' not in page


def test_tournaments_list_their_format_and_progress(admin_client, alice):
    champions = [ready_champion(alice, f"c{i}") for i in range(3)]
    swiss = tournaments.create("Swiss cup", "swiss", [c.pk for c in champions], [],
                               nb_players=2, rounds=2)
    tournaments.launch(swiss)
    Tournament.objects.filter(pk=swiss.pk).update(waiting_reason="match 3 failed: rerun it")
    tournaments.create("Later", "round_robin", [c.pk for c in champions], [], nb_players=2)

    page, headers, rows = changelist(admin_client, "tournament", status__exact="running")
    assert rows == [swiss]
    assert {"format", "status", "nb players", "rounds", "started at", "finished at",
            "waiting"} <= headers
    assert '<td class="field-waiting"><img src="/static/admin/img/icon-yes.svg"' in page
    assert changelist(admin_client, "tournament", format__exact="swiss")[2] == [swiss]

    page = text(admin_client.get(reverse("admin:stechec_tournament_change", args=[swiss.pk])))
    assert "match 3 failed: rerun it" in page and 'name="waiting_reason"' not in page
    # Its champions inline, with their points, ranks and seeds, read only.
    assert page.count('name="players-') > 0 and 'name="players-0-score"' not in page
    assert "Seed" in page
