"""stechec-manage create_tournament, launch_tournament and recompute_ratings, on the database."""

import io
import itertools
import random

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from stechec.contest import tournaments, transitions
from stechec.contest.models import (
    Champion,
    Map,
    Match,
    MatchPlayer,
    Priority,
    Tournament,
)
from tests.tournaments.results import finish

pytestmark = pytest.mark.django_db


def ready(author, name, **fields):
    return Champion.objects.create(name=name, author=author, status=Champion.Status.READY,
                                   **fields)


@pytest.fixture
def entrants():
    """Four players' latest ready champions, and champions that must not be entered."""
    players = [User.objects.create_user(f"p{i}") for i in range(4)]
    old = ready(players[0], "old version")
    latest = [ready(player, f"latest {i}") for i, player in enumerate(players)]
    staff = User.objects.create_user("orga", is_staff=True)
    ready(staff, "staff's own")
    Champion.objects.create(name="broken", author=players[1], status=Champion.Status.ERROR)
    ready(players[2], "deleted", deleted=True)
    return {"latest": latest, "old": old, "staff": staff}


def seatings(tournament):
    return sorted((tuple(p.champion_id for p in m.players.order_by("id")), m.map_id)
                  for m in Match.objects.filter(tournament=tournament))


def test_round_robin_queues_exactly_every_seating_on_every_map(entrants, capsys):
    maps = [Map.objects.create(author=entrants["staff"], name=f"m{i}", contents="x",
                               official=True) for i in range(2)]
    Map.objects.create(author=entrants["staff"], name="unofficial", contents="x")
    call_command("create_tournament", "Spring cup", "--launch")
    tournament = Tournament.objects.get()
    assert "24 matches queued" in capsys.readouterr().out
    ids = sorted(c.pk for c in entrants["latest"])
    assert seatings(tournament) == sorted(
        (seats, m.pk) for seats in itertools.permutations(ids, 2) for m in maps)
    assert set(Match.objects.values_list("status", "priority")) == {("new",
                                                                     Priority.TOURNAMENT)}
    assert tournament.status == "running"


def test_the_deadline_staff_and_hand_picked_champions(entrants):
    Champion.objects.filter(pk=entrants["latest"][0].pk).update(
        ts=timezone.now() + timezone.timedelta(days=1))
    deadline = (timezone.now() + timezone.timedelta(hours=1)).isoformat()
    call_command("create_tournament", "before", "--deadline", deadline, "--include-staff")
    entered = set(Tournament.objects.get(name="before").players.values_list("champion_id",
                                                                            flat=True))
    staff_champion = Champion.objects.get(author=entrants["staff"]).pk
    assert entered == {entrants["old"].pk, staff_champion,
                       *(c.pk for c in entrants["latest"][1:])}
    picked = [c.pk for c in entrants["latest"][:3]]
    call_command("create_tournament", "picked", "--champions", *map(str, picked), "--maps")
    assert Tournament.objects.get(name="picked").status == "created"
    call_command("launch_tournament", str(Tournament.objects.get(name="picked").pk))
    assert Match.objects.filter(tournament__name="picked", map=None).count() == 6


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "swiss"], "a Swiss tournament needs at least 1 round"),
    (["--rounds", "3"], "only Swiss tournaments have a number of rounds"),
    (["--champions", "1", "1"], "is entered twice"),
    (["--champions", "999", "998"], "champions 999 and 998 are not ready champions"),
    (["--maps", "404"], "map 404 does not exist"),
    (["--deadline", "next tuesday"], "is not a date and time"),
])
def test_bad_tournaments_are_refused_and_nothing_is_created(entrants, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_tournament", "bad", *args)
    assert not Tournament.objects.exists()
    assert not Match.objects.exists()


def test_a_tournament_launches_once(entrants):
    call_command("create_tournament", "once", "--format", "single_elimination", "--launch")
    tournament = Tournament.objects.get()
    with pytest.raises(CommandError, match="already launched"):
        call_command("launch_tournament", str(tournament.pk))
    with pytest.raises(CommandError, match="no tournament 9999"):
        call_command("launch_tournament", "9999")
    assert Match.objects.count() == 2


def test_a_command_speaks_the_site_s_language_whatever_the_thread_s(entrants, settings):
    """As from code that served a French or an English request: the site's default wins."""
    settings.LANGUAGE_CODE = "fr"
    out = io.StringIO()
    with translation.override("en"):
        call_command("create_tournament", "once", "--format", "single_elimination",
                     "--launch", stdout=out)
        tournament = Tournament.objects.get()
        with pytest.raises(CommandError, match=f"le tournoi {tournament.pk} a déjà été lancé"):
            call_command("launch_tournament", str(tournament.pk))
    assert out.getvalue().startswith(f"tournoi {tournament.pk} créé\xa0: ")


def test_recompute_ratings_gives_what_results_applied_and_counts_reruns_once(entrants, capsys):
    champions = entrants["latest"]
    rng = random.Random(3)
    matches = []
    for _ in range(30):
        match = Match.launch(rng.sample(champions, rng.choice([2, 3])))
        finish(match, [rng.randint(0, 3) for _ in match.players.all()])
        matches.append(match)

    def state():
        return (list(Champion.objects.order_by("id").values_list(
                    "rating_mu", "rating_sigma", "rated_games")),
                list(MatchPlayer.objects.order_by("id").values_list("rating_mu",
                                                                    "rating_sigma")))

    applied = state()
    call_command("recompute_ratings")
    assert "30 matches replayed" in capsys.readouterr().out
    assert state() == applied
    # A rerun is rated again on its new result, at the end of the order.
    transitions.rerun_matches(Match.objects.filter(pk=matches[4].pk))
    finish(matches[4], [9] + [0] * (matches[4].players.count() - 1))
    assert Match.objects.get(pk=matches[4].pk).rated_seq == 31
    call_command("recompute_ratings")
    assert "30 matches replayed" in capsys.readouterr().out
    recomputed = state()
    assert sum(games for *_, games in recomputed[0]) == sum(
        m.players.count() for m in matches)


def test_single_elimination_is_seeded_from_ratings_and_advances_the_winners():
    players = [User.objects.create_user(f"seeded{i}") for i in range(6)]
    c = [ready(player, f"seeded {i}", rating=rating)
         for i, (player, rating) in enumerate(zip(players, [3.0, 9.5, 1.0, 9.5, 7.2, -0.5],
                                                  strict=True))]
    call_command("create_tournament", "Cup", "--format", "single_elimination", "--maps",
                 "--champions", *(str(champion.pk) for champion in c), "--launch")
    tournament = Tournament.objects.get()
    # Highest displayed rating first; equal ratings: the older champion.
    assert list(tournament.players.order_by("seed").values_list("champion_id", flat=True)) \
        == [c[1].pk, c[3].pk, c[4].pk, c[0].pk, c[2].pk, c[5].pk]

    def play_round(number, winners):
        """Check round `number` pairs exactly the champions of `winners`' keys, then play
        it: each key's champion loses to its value."""
        matches = list(tournament.matches.filter(round=number))
        assert {frozenset(m.players.values_list("champion_id", flat=True)) for m in matches} \
            == {frozenset((loser.pk, winner.pk)) for loser, winner in winners.items()}
        for match in matches:
            seats = list(match.players.order_by("id").values_list("champion_id", flat=True))
            winner = next(w.pk for loser, w in winners.items() if loser.pk in seats)
            finish(match, [3 if champion == winner else 0 for champion in seats])
        tournaments.advance(tournament.pk)

    # Seeds 1 and 2 wait; 3 meets 6 and 4 meets 5, and the lower seeds win (upsets).
    play_round(0, {c[4]: c[5], c[0]: c[2]})
    # Seed 1 meets the winner of 4-5, seed 2 the winner of 3-6.
    play_round(1, {c[1]: c[2], c[5]: c[3]})
    play_round(2, {c[2]: c[3]})
    tournament.refresh_from_db()
    assert tournament.status == "done"
    ranks = dict(tournament.players.values_list("champion_id", "rank"))
    assert ranks == {c[3].pk: 1, c[2].pk: 2, c[1].pk: 3, c[5].pk: 3, c[0].pk: 5, c[4].pk: 5}
