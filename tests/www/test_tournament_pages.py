"""Tournament pages for organisers and players, the leaderboard and the rating chart."""

import csv
import io
import itertools

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from stechec.contest import tournaments
from stechec.contest.models import Champion, Map, Match, Tournament
from tests.tournaments.results import finish
from tests.www.helpers import ready_champion, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def players():
    """Three players, each with an older and a latest ready champion."""
    users = [User.objects.create_user(name) for name in ("ann", "ben", "cat")]
    for user in users:
        ready_champion(user, f"{user.username} v1")
    return [ready_champion(user, f"{user.username} v2") for user in users]


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def create(client, **fields):
    data = {"name": "Cup", "format": "round_robin", "rounds": "0", "champions": "",
            "launch": "on", **fields}
    return client.post(reverse("tournament-new"), data)


def test_staff_create_and_launch_a_round_robin_of_the_latest_champions(staff_client, players,
                                                                       staff):
    board = Map.objects.create(author=staff, name="board", contents="x", official=True)
    page = text(staff_client.get(reverse("tournament-new")))
    assert f'value="{board.pk}" selected' in page
    response = create(staff_client, maps=[board.pk])
    tournament = Tournament.objects.get()
    assert response["Location"] == reverse("tournament-detail", args=[tournament.pk])
    ids = sorted(c.pk for c in players)
    assert sorted(tuple(m.players.order_by("id").values_list("champion_id", flat=True))
                  for m in tournament.matches.all()) == sorted(itertools.permutations(ids, 2))
    page = text(staff_client.get(response["Location"]))
    assert "0 done of 6, 6 waiting or running" in page


def entrants_shown(page):
    """The (player, champion) rows of the form's entrants table."""
    table = page.split('<table class="entrants">', 1)[1].split("</table>", 1)[0]
    rows = table.split("<tr>")[2:]
    return [(row.split("<td>")[1].split("</td>")[0],
             row.split("<td>")[2].split(">")[1].split("<")[0]) for row in rows]


def test_the_form_shows_the_entrants_before_creating(staff_client, players, staff):
    ready_champion(staff, "orga bot")

    page = text(staff_client.get(reverse("tournament-new")))
    assert entrants_shown(page) == [("ann", "ann v2"), ("ben", "ben v2"), ("cat", "cat v2")]
    assert "each player's latest ready champion, staff's left out" in page

    page = text(create(staff_client, preview="1", include_staff="on"))
    assert entrants_shown(page) == [("ann", "ann v2"), ("ben", "ben v2"), ("cat", "cat v2"),
                                    ("orga", "orga bot")]
    v1 = Champion.objects.get(name="ann v1")
    page = text(create(staff_client, preview="1", champions=f"{v1.pk} {players[1].pk}"))
    assert entrants_shown(page) == [("ann", "ann v1"), ("ben", "ben v2")]
    assert not Tournament.objects.exists()


def test_created_then_launched_from_its_page(staff_client, players):
    create(staff_client, launch="", format="swiss", rounds="2")
    tournament = Tournament.objects.get()
    assert "Launch the tournament" in text(staff_client.get(
        reverse("tournament-detail", args=[tournament.pk])))
    staff_client.post(reverse("tournament-launch", args=[tournament.pk]))
    # Three champions: one match and a bye.
    assert tournament.matches.count() == 1
    response = staff_client.post(reverse("tournament-launch", args=[tournament.pk]),
                                 follow=True)
    assert "already launched" in text(response)
    assert tournament.matches.count() == 1


@pytest.mark.parametrize(("fields", "message"), [
    ({"format": "swiss", "rounds": "0"}, "A Swiss tournament needs at least 1 round."),
    ({"champions": "12 abc x7"}, "Champions are given by their numbers, e.g. 12 15 18: 'abc', "
                                 "'x7' are not a number."),
    # Every bad number, not the first: the organiser fixes them all at once.
    # ({a} and {b}: two ready champions' numbers.)
    ({"champions": "99999 {a} 99998"}, "Champions 99999 and 99998 are not ready champions."),
    ({"champions": "{a} 99999"}, "Champion 99999 is not a ready champion."),
    ({"champions": "{a} {b} {a} {b}"}, "Champions {a} and {b} are entered twice."),
    ({"name": "  "}, "This field is required."),
])
def test_bad_tournaments_get_a_clear_error_and_nothing_is_created(staff_client, players,
                                                                  fields, message):
    a, b = sorted(champion.pk for champion in players)[:2]
    response = create(staff_client, **{key: value.replace("{a}", str(a)).replace("{b}", str(b))
                                       for key, value in fields.items()})
    assert response.status_code == 200
    assert message.replace("{a}", str(a)).replace("{b}", str(b)) in text(response)
    assert not Tournament.objects.exists()


def test_the_cores_refusals_in_french(staff_client, players):
    french = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    a, b = sorted(champion.pk for champion in players)[:2]
    response = staff_client.post(reverse("tournament-new"), {
        "name": "Coupe", "format": "round_robin", "rounds": "0", "launch": "on",
        "champions": f"{a} 99999 {b} 99998"}, **french)
    assert ("Les champions 99999 et 99998 ne sont pas des champions prêts."
            in text(response))
    create(staff_client)
    tournament = Tournament.objects.get()
    response = staff_client.post(reverse("tournament-launch", args=[tournament.pk]),
                                 follow=True, **french)
    assert f"Le tournoi {tournament.pk} a déjà été lancé." in text(response)


def test_only_staff_create_launch_and_rerun(alice_client, players):
    assert alice_client.get(reverse("tournament-new")).status_code == 403
    tournament = Tournament.objects.create(name="t")
    for name in ("tournament-launch", "tournament-rerun-failed"):
        assert alice_client.post(reverse(name, args=[tournament.pk])).status_code == 403
    assert "New tournament" not in text(alice_client.get(reverse("tournament-list")))


def test_results_points_matrix_csv_and_a_failed_match_rerun(staff_client, players):
    create(staff_client)
    tournament = Tournament.objects.get()
    ann, ben, cat = players
    for match in tournament.matches.all():
        seats = list(match.players.order_by("id").values_list("champion_id", flat=True))
        if seats == [cat.pk, ann.pk]:
            finish(match, failed=True)
        else:
            # ann beats everyone; ben and cat draw.
            finish(match, [5 if c == ann.pk else 1 for c in seats])
    url = reverse("tournament-detail", args=[tournament.pk])
    page = text(staff_client.get(url))
    assert "5 done, <strong>1 failed</strong> of 6" in page
    assert "Rerun the 1 failed matches" in page
    rows = list(csv.reader(io.StringIO(staff_client.get(
        reverse("tournament-standings-csv", args=[tournament.pk])).content.decode())))
    assert rows[0][:5] == ["rank", "champion_id", "name", "points", "score"]
    assert [row[:5] for row in rows[1:]] == [
        ["1", str(ann.pk), "ann/ann v2", "6", "15"],
        ["2", str(ben.pk), "ben/ben v2", "2", "4"],
        ["3", str(cat.pk), "cat/cat v2", "2", "3"]]
    matrix = list(csv.reader(io.StringIO(staff_client.get(
        reverse("tournament-matrix-csv", args=[tournament.pk])).content.decode())))
    assert matrix[1] == ["ann/ann v2", "", "4", "2"]
    assert matrix[3] == ["cat/cat v2", "0", "2", ""]

    staff_client.post(reverse("tournament-rerun-failed", args=[tournament.pk]))
    assert tournament.matches.filter(status="new").count() == 1
    finish(tournament.matches.get(status="new"), [0, 3])
    assert "6 done of 6" in text(staff_client.get(url))
    points = dict(tournament.players.values_list("champion_id", "score"))
    assert points == {ann.pk: 8, ben.pk: 2, cat.pk: 2}


def test_the_matrix_heads_name_the_champions_and_each_format_says_how_it_ranks(
        alice_client, players):
    cup = Tournament.objects.create(name="Cup", status="running")
    bracket = Tournament.objects.create(name="Bracket", status="running",
                                        format=Tournament.Format.SINGLE_ELIMINATION)
    for seed, champion in enumerate(players, 1):
        cup.players.create(champion=champion)
        bracket.players.create(champion=champion, seed=seed)

    page = text(alice_client.get(reverse("tournament-detail", args=[cup.pk])))
    heads = page.split('<table class="matrix">', 1)[1].split("</thead>", 1)[0]
    for champion in players:
        assert f'title="{champion.author.username}/{champion.name}">' in heads
        assert f". {champion.name}</th>" in heads
    assert "equal points are split by the cumulative score" in page
    page = text(alice_client.get(reverse("tournament-detail", args=[bracket.pk])))
    assert "on equal score too, the better seed" in page
    assert "<th>Seed</th>" in page and "Final places go by the round lost" in page


def test_a_done_tournament_shows_its_stored_ranks(alice_client, players):
    tournament = Tournament.objects.create(name="Final", status="done")
    for rank, champion in zip((2, 1, 2), players, strict=True):
        tournament.players.create(champion=champion, score=10 - rank, rank=rank)
    page = text(alice_client.get(reverse("tournament-detail", args=[tournament.pk])))
    assert page.index("ben v2") < page.index("ann v2") < page.index("cat v2")


def test_leaderboard_shows_each_players_best_champion_and_its_history(alice_client, players):
    ann, ben, cat = players
    older = Champion.objects.get(name="ann v1")
    for _ in range(3):
        finish(Match.launch([older, ben]), [3, 0])
        finish(Match.launch([ann, cat]), [0, 3])
    page = text(alice_client.get(reverse("leaderboard")))
    # ann's best is v1 (won its matches); cat beat ann v2; ben lost everything.
    assert page.index("ann v1") < page.index("cat v2") < page.index("ben v2")
    assert "ann v2" not in page
    # Mean ± uncertainty and the number of rated games, as stored, beside the shown rating.
    best = Champion.objects.get(name="ann v1")
    assert (f"<td>{best.rating_mu:.2f} ± {best.rating_sigma:.2f}</td>\n      "
            f"<td>{best.rated_games}</td>") in page
    chart = text(alice_client.get(reverse("champion-rating", args=[older.pk])))
    assert "<svg" in chart and "<polyline" in chart and "3 rated matches" in chart
    fresh = ready_champion(ann.author, "fresh")
    assert "Not rated yet" in text(alice_client.get(reverse("champion-rating", args=[fresh.pk])))
    # A new champion's uncertainty starts high (a third of its mean): a few games place it.
    assert "(mean 25.00 ± 8.33, not rated yet" in text(alice_client.get(
        reverse("champion-detail", args=[fresh.pk])))


def test_tournament_page_queries_do_not_grow_with_matches(alice_client, players,
                                                          django_assert_max_num_queries):
    tournament = Tournament.objects.create(name="big", status="running")
    for champion in players:
        tournament.players.create(champion=champion)
    for seats in itertools.permutations(players, 2):
        for _ in range(10):
            finish(Match.launch(seats, tournament=tournament), [1, 2])
    with django_assert_max_num_queries(8):
        assert alice_client.get(reverse("tournament-detail",
                                        args=[tournament.pk])).status_code == 200


@pytest.mark.parametrize(("elapsed", "done", "estimate"), [
    (10, 3, "about 10 s left"),
    (100, 2, "about 3 min left"),
    (7200, 1, "about 10 h 00 min left"),
])
def test_progress_estimates_the_time_left_at_the_pace_so_far(alice_client, players, elapsed,
                                                             done, estimate, monkeypatch):
    tournament = tournaments.create("Cup", "round_robin", [c.pk for c in players], [],
                                    nb_players=2)
    tournaments.launch(tournament)
    started_at = timezone.now() - timezone.timedelta(seconds=elapsed)
    Tournament.objects.filter(pk=tournament.pk).update(started_at=started_at)
    url = reverse("tournament-detail", args=[tournament.pk])
    assert " left" not in text(alice_client.get(url))
    for match in tournament.matches.order_by("id")[:done]:
        finish(match, [1, 2])
    # 6 matches: the ones left take as long each as the finished ones did. The page reads
    # the clock exactly `elapsed` after the start, however long the test took to get here.
    monkeypatch.setattr(timezone, "now", lambda: started_at + timezone.timedelta(seconds=elapsed))
    progress = text(alice_client.get(url)).split('id="tournament-progress">')[1]
    monkeypatch.undo()
    assert f"{done} done of 6, {6 - done} waiting or running; {estimate}" in progress
    for match in tournament.matches.filter(status="new"):
        finish(match, [1, 2])
    tournaments.advance(tournament.pk)
    assert " left" not in text(alice_client.get(url))
