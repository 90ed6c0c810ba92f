"""The ladder, run by a real master: its quota in flight, placement games, yielding to players."""

from django.contrib.auth.models import User

from stechec.contest.models import Champion, Match, MatchPlayer, Priority

from .conftest import wait_for

LADDER = "ladder:\n  enabled: true\n  matches_in_flight: 3\n  nb_players: 2\n"


def ready_champions(count):
    return [Champion.objects.create(name=f"ladder {i}", status=Champion.Status.READY,
                                    author=User.objects.create_user(f"laddering{i}"))
            for i in range(count)]


def ladder_in_flight():
    return list(Match.objects.filter(ladder=True, status__in=Match.IN_FLIGHT)
                .prefetch_related("players"))


def top_ups(master):
    """The ladder's top-ups so far (the master runs with -v: it logs each)."""
    return master.logs().count("ladder: top-up ")


def wait_for_top_ups(master, count):
    """Wait until the ladder has topped up `count` more times: what it did not create by
    then, it did not for a reason (one top-up runs after the other)."""
    seen = top_ups(master)
    wait_for(lambda: top_ups(master) >= seen + count, f"{count} more top-ups of the ladder")


def test_the_ladder_keeps_its_quota_in_flight_new_champions_first(cluster):
    veterans = ready_champions(6)
    Champion.objects.filter(pk__in=[c.pk for c in veterans]).update(rated_games=10)
    newcomer = Champion.objects.create(name="newcomer", status=Champion.Status.READY,
                                       author=veterans[0].author)
    master = cluster.start_master(extra=LADDER)
    cluster.start_workers("holding", slots=20, hold=True)
    wait_for(lambda: len(ladder_in_flight()) == 3, "3 ladder matches")
    # Several top-ups later, still 3: the quota is the most in flight.
    wait_for_top_ups(master, 3)
    matches = ladder_in_flight()
    assert len(matches) == 3
    assert all(m.priority == Priority.BACKGROUND and m.author is None for m in matches)
    seated = [p.champion_id for m in matches for p in m.players.all()]
    assert len(seated) == len(set(seated)) == 6
    assert newcomer.pk in seated
    assert Match.objects.filter(ladder=True).count() == 3


def test_ratings_keep_moving_and_the_quota_holds_as_matches_finish(cluster):
    champions = ready_champions(5)
    cluster.start_master(extra=LADDER)
    cluster.start_workers("sim", slots=20, delay=0.2)

    def twelve_played():
        assert len(ladder_in_flight()) <= 3
        return Match.objects.filter(ladder=True, status="done").count() >= 12
    wait_for(twelve_played, "the ladder to play 12 matches", timeout=300)
    games = Champion.objects.filter(pk__in=[c.pk for c in champions])\
        .values_list("rated_games", flat=True)
    assert all(count > 0 for count in games)
    assert Match.objects.filter(ladder=True, status="done", rated_seq=None).count() == 0


def test_the_ladder_waits_while_a_player_match_waits(cluster, player):
    champions = ready_champions(6)
    waiting = Match.launch(champions[:2], author=player)
    # No worker yet: the player's match waits, and the ladder starts nothing.
    master = cluster.start_master(extra=LADDER)
    wait_for(lambda: "player matches wait" in master.logs(), "the ladder to top up once")
    assert not Match.objects.filter(ladder=True).exists()
    workers = cluster.start_workers("holding", slots=20, hold=True)
    wait_for(lambda: len(ladder_in_flight()) == 3, "the ladder to start once the player's "
             "match runs")
    # The ladder may start once the player's match is placed, before the worker has
    # recorded receiving it.
    wait_for(lambda: workers.events("received"), "the workers to receive a task")
    assert [e["id"] for e in workers.events("received")][0] == waiting.id
    assert Match.objects.get(pk=waiting.pk).status == "pending"


def test_the_ladder_plays_each_players_latest_ready_champion_only(cluster):
    players = [User.objects.create_user(f"versions{i}") for i in range(4)]
    older = [Champion.objects.create(name="v1", status=Champion.Status.READY, author=p)
             for p in players]
    latest = [Champion.objects.create(name="v2", status=Champion.Status.READY, author=p)
              for p in players]
    # Newer than the latest ready one, but not playable: neither takes its place.
    for player in players:
        Champion.objects.create(name="v3 broken", status=Champion.Status.ERROR, author=player)
        Champion.objects.create(name="v3 deleted", status=Champion.Status.READY, author=player,
                                deleted=True)
    master = cluster.start_master(extra=LADDER)
    cluster.start_workers("holding", slots=20, hold=True)
    wait_for(lambda: len(ladder_in_flight()) >= 2, "2 ladder matches")
    # The quota is 3, but the 4 latest champions are all busy: nothing else may play.
    wait_for_top_ups(master, 3)
    matches = ladder_in_flight()
    assert len(matches) == 2
    seated = sorted(p.champion_id for m in matches for p in m.players.all())
    assert seated == sorted(c.pk for c in latest)
    assert not MatchPlayer.objects.filter(champion__in=older).exists()
