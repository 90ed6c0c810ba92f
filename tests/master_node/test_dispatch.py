from django.db import connection

from stechec.contest.models import Champion, Match, MatchPlayer, Priority

from .conftest import all_finished, new_champions, new_matches, wait_for


def test_tasks_run_once_each_within_the_workers_slots(cluster, player):
    cluster.start_master()
    workers = cluster.start_workers("pool", count=3, slots=3, delay=0.3)
    champions = [c.id for c in new_champions(player, 12)]
    matches = [m.id for m in new_matches(player, 6)]

    wait_for(lambda: all_finished(Champion, champions, Champion.Status.READY) and
             all_finished(Match, matches, Match.Status.DONE), "every task to finish")

    received = workers.events("received")
    assert not workers.events("refused")
    # A match takes 1 + 2 players x 1 slot; no worker ever had more than its 3 busy.
    assert {e["slots"] for e in received if e["kind"] == "match"} == {3}
    assert max(e["busy"] for e in received) <= 3
    assert sorted(e["id"] for e in received if e["kind"] == "compile") == sorted(champions)
    assert sorted(e["id"] for e in received if e["kind"] == "match") == sorted(matches)
    assert all(e["applied"] for e in workers.events("reported"))
    assert set(Champion.objects.filter(pk__in=champions).values_list("attempts", flat=True)) \
        == {1}
    assert set(Champion.objects.filter(pk__in=champions).values_list("language", flat=True)) \
        == {"c"}
    for match in Match.objects.filter(pk__in=matches):
        assert match.attempts == 1 and match.worker in workers.names
        assert match.started_at <= match.finished_at
    for mp in MatchPlayer.objects.filter(match_id__in=matches):
        assert mp.score == mp.id
        assert mp.nb_timeout == mp.champion_id % 2
        assert mp.has_timeout == (mp.nb_timeout > 0)
        assert mp.exit_status == 0
    if connection.vendor == "postgresql":
        # dispatch.connections (3 in these tests) and one for LISTEN, however many tasks ran.
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND pid <> pg_backend_pid()")
            assert cursor.fetchone()[0] <= 4


def test_compilations_come_first_then_matches_by_priority_then_age(cluster, player):
    ready = [Champion.objects.create(name=f"ready {i}", author=player,
                                     status=Champion.Status.READY) for i in range(2)]
    background = Match.launch(ready, author=player, priority=Priority.BACKGROUND)
    tournament = Match.launch(ready, author=player, priority=Priority.TOURNAMENT)
    waited_on = Match.launch(ready, author=player, priority=Priority.PLAYER)
    champions = [c.id for c in new_champions(player, 2)]
    cluster.start_master()
    # One worker with room for one match at a time: the order is the queue's.
    workers = cluster.start_workers("one", slots=3, delay=0.2)

    wait_for(lambda: len(workers.events("reported")) == 5, "every task to finish")

    order = [(e["kind"], e["id"]) for e in workers.events("received")]
    assert sorted(order[:2]) == [("compile", c) for c in champions]
    assert order[2:] == [("match", waited_on.id), ("match", tournament.id),
                         ("match", background.id)]
