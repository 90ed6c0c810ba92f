import gzip

import pytest
from django.db import transaction
from django.urls import reverse

from stechec.common import paths
from stechec.contest import ratings, transitions
from stechec.contest.models import Champion, Map, Match, MatchPlayer, PlayerProfile
from tests.www.helpers import (
    finished_match,
    match_file,
    ready_champion,
    text,
    tictactoe_dump,
    write_file,
)

pytestmark = pytest.mark.django_db


def create(client, *champions, map=None):
    data = {f"champion_{n + 1}": c.pk for n, c in enumerate(champions)}
    if map is not None:
        data["map"] = map.pk
    return client.post(reverse("match-new"), data)


def test_creating_a_match_puts_it_in_the_queue_with_players_in_seat_order(alice_client, alice,
                                                                           bob, site):
    site["contest"]["uses_maps"] = True
    mine = ready_champion(alice, "mine")
    theirs = ready_champion(bob, "theirs")
    board = Map.objects.create(author=bob, name="board", contents="...")

    response = create(alice_client, theirs, mine, map=board)

    match = Match.objects.get()
    assert response["Location"] == reverse("match-detail", args=[match.pk])
    assert (match.status, match.author, match.map, match.priority) == ("new", alice, board, 100)
    assert [p.champion for p in match.players.all()] == [theirs, mine]


def test_only_ready_visible_champions_may_play(alice_client, alice):
    ready = ready_champion(alice, "ready")
    compiling = ready_champion(alice, "compiling")
    Champion.objects.filter(pk=compiling.pk).update(status=Champion.Status.PENDING)
    deleted = ready_champion(alice, "deleted", deleted=True)

    for other in (compiling, deleted):
        response = create(alice_client, ready, other)
        assert f"No ready champion is '{other.pk}'" in text(response)
    assert not Match.objects.exists()


def test_own_champions_only_switch(alice_client, alice, bob, site):
    mine = ready_champion(alice)
    theirs = ready_champion(bob)
    site["website"]["own_champions_only"] = True

    response = create(alice_client, mine, theirs)
    assert f"No ready champion is '{theirs.pk}'" in text(response)
    assert "Challenge" not in text(alice_client.get(reverse("leaderboard")))

    site["website"]["own_champions_only"] = False
    assert create(alice_client, mine, theirs).status_code == 302


def test_matches_in_flight_are_limited_with_a_clear_message(alice_client, alice, site):
    site["website"]["matches_in_flight_per_user"] = 2
    champion = ready_champion(alice)
    assert create(alice_client, champion, champion).status_code == 302
    assert create(alice_client, champion, champion).status_code == 302

    response = create(alice_client, champion, champion)
    assert "You already have 2 matches waiting or running; the limit is 2" in text(response)
    assert Match.objects.count() == 2

    Match.objects.update(status=Match.Status.DONE)
    assert create(alice_client, champion, champion).status_code == 302


def test_the_form_is_prefilled_from_a_champion_page_and_a_challenge(alice_client, alice, bob):
    older, latest = ready_champion(alice, "older"), ready_champion(alice, "latest")
    theirs = ready_champion(bob, "theirs")

    page = text(alice_client.get(reverse("match-new") + f"?champion={older.pk}"))
    assert f'name="champion_1" value="alice/older #{older.pk}"' in page
    # A challenge: their champion last, my latest ready one first.
    page = text(alice_client.get(reverse("match-new") + f"?opponent={theirs.pk}"))
    assert f'name="champion_1" value="alice/latest #{latest.pk}"' in page
    assert f'name="champion_2" value="bob/theirs #{theirs.pk}"' in page


def post_seats(client, *seats):
    return client.post(reverse("match-new"),
                       {f"champion_{n + 1}": seat for n, seat in enumerate(seats)})


def test_opponents_are_picked_by_name_the_latest_ready_one_by_default(alice_client, alice,
                                                                      bob):
    mine = ready_champion(alice, "mine")
    sly_old = ready_champion(bob, "sly")
    other = ready_champion(bob, "other")
    sly = ready_champion(bob, "sly")
    compiling = ready_champion(bob, "compiling")
    Champion.objects.filter(pk=compiling.pk).update(status=Champion.Status.PENDING)
    deleted = ready_champion(bob, "deleted", deleted=True)

    def seats_of(*names):
        response = post_seats(alice_client, *names)
        assert response.status_code == 302, text(response)
        match = Match.objects.order_by("-id").first()
        return [p.champion for p in match.players.all()]

    assert seats_of("alice", "bob") == [mine, sly]
    assert seats_of("alice/mine", " bob/other ") == [mine, other]
    assert seats_of(f"#{mine.pk}", "bob/sly") == [mine, sly]
    assert seats_of(str(mine.pk), f"bob/sly #{sly_old.pk}") == [mine, sly_old]
    PlayerProfile.objects.create(user=bob, display_name="Robert B.")
    assert seats_of("alice", "robert b.") == [mine, sly]

    for wrong in ("carol", "bob/compiling", "bob/deleted", f"#{deleted.pk}", "bob/nobody",
                  "99999999999999999999999"):
        page = text(post_seats(alice_client, "alice", wrong))
        assert f"No ready champion is '{wrong}': give a player's name" in page, wrong


def test_the_search_suggests_every_player_s_latest_and_matching_champions(alice_client,
                                                                         alice, bob):
    sly = ready_champion(bob, "sly")
    latest = ready_champion(bob, "bobcat")
    ready_champion(alice, "alice-bot")
    url = reverse("match-champion-search")

    choices = alice_client.get(url, {"q": "bob"}).json()["choices"]
    assert choices[0] == {"value": "bob", "label": f"bob's latest ready champion: bobcat "
                                                   f"#{latest.pk}"}
    assert [c["value"] for c in choices[1:]] == [f"bob/bobcat #{latest.pk}",
                                                 f"bob/sly #{sly.pk}"]
    assert [c["value"] for c in alice_client.get(url, {"q": "cat"}).json()["choices"]] == [
        f"bob/bobcat #{latest.pk}"]
    assert alice_client.get(url, {"q": " "}).json()["choices"] == []
    # A display name finds its player too.
    PlayerProfile.objects.create(user=bob, display_name="Robert")
    choices = alice_client.get(url, {"q": "rob"}).json()["choices"]
    assert choices[0] == {"value": "bob", "label": f"Robert's latest ready champion: bobcat "
                                                   f"#{latest.pk}"}


def test_the_map_field_is_there_only_for_games_with_maps(alice_client, site):
    site["contest"]["uses_maps"] = None
    assert 'name="map"' not in text(alice_client.get(reverse("match-new")))
    site["contest"]["game"] = "goldrush"
    assert 'name="map"' in text(alice_client.get(reverse("match-new")))
    site["contest"]["uses_maps"] = False
    assert 'name="map"' not in text(alice_client.get(reverse("match-new")))


def test_challenge_buttons_on_the_leaderboard_and_champion_pages(alice_client, alice, bob):
    mine, theirs = ready_champion(alice, "mine"), ready_champion(bob, "theirs")
    Champion.objects.update(rated_games=1)

    board = text(alice_client.get(reverse("leaderboard")))
    assert board.count("Challenge</a>") == 1
    assert f"?opponent={theirs.pk}" in board
    assert "Challenge it" in text(alice_client.get(reverse("champion-detail", args=[theirs.pk])))
    own = text(alice_client.get(reverse("champion-detail", args=[mine.pk])))
    assert "Challenge it" not in own and "Start a match with it" in own


def test_lists_filter_by_champion_and_author(alice_client, alice, bob):
    a = ready_champion(alice, "a-champ")
    b = ready_champion(bob, "b-champ")
    with_a = Match.launch([a, a], author=alice)
    with_b = Match.launch([b, b], author=bob)
    mixed = Match.launch([a, b], author=bob)

    def shown(url):
        page = alice_client.get(url).context["page"]
        return [m.pk for m in page.items]

    assert shown(reverse("match-list")) == [mixed.pk, with_b.pk, with_a.pk]
    assert shown(reverse("match-mine")) == [with_a.pk]
    # A champion playing itself is listed once.
    assert shown(reverse("match-list") + f"?champion={a.pk}") == [mixed.pk, with_a.pk]
    assert shown(reverse("match-list") + "?author=bob") == [mixed.pk, with_b.pk]
    assert shown(reverse("match-list") + f"?author=bob&champion={a.pk}") == [mixed.pk]
    assert shown(reverse("match-list") + "?champion=oops") == [mixed.pk, with_b.pk, with_a.pk]


def test_filters_survive_paging(alice_client, alice, site):
    site["website"]["page_size"] = 1
    odd = type(alice).objects.create_user("a&b c")
    champion = ready_champion(odd)
    Match.launch([champion, champion], author=odd)
    Match.launch([champion, champion], author=odd)

    page = text(alice_client.get(reverse("match-list") + "?author=a%26b+c"))

    assert "?author=a%26b+c&page=2" in page


def test_detail_is_live_until_finished_and_says_why_it_failed(alice_client, alice):
    champion = ready_champion(alice)
    match = Match.launch([champion, champion], author=alice)
    url = reverse("match-detail", args=[match.pk])

    assert f'data-live-url="/matches/{match.pk}/live.json"' in text(alice_client.get(url))

    Match.objects.filter(pk=match.pk).update(status=Match.Status.FAILED,
                                             failure_reason="server killed after 400 s")
    page = text(alice_client.get(url))
    assert "data-live-url" not in page
    assert "server killed after 400 s" in page


def test_detail_shows_scores_timeouts_and_exit_statuses(alice_client, alice, bob):
    mine, theirs = ready_champion(alice, "mine"), ready_champion(bob, "theirs")
    match = finished_match(alice, [mine, theirs])
    first, second = match.players.all()
    MatchPlayer.objects.filter(pk=first.pk).update(score=3, exit_status=0)
    MatchPlayer.objects.filter(pk=second.pk).update(score=-1, nb_timeout=2, has_timeout=True,
                                                    exit_status=137)

    page = text(alice_client.get(reverse("match-detail", args=[match.pk])))

    assert "<td>3</td>" in page and "<td>-1</td>" in page
    # An exit status from a worker that sends no verdict, for her own champion only.
    assert '<td class="verdict">0</td>' in page and "137" not in page
    assert "timed out" in page


SEGFAULT = {"ended": "signal", "exit_status": None, "signal": "SIGSEGV", "limit": "",
            "limit_value": "", "cpu_ms": 1520, "wall_ms": 3100, "peak_memory_kib": 12 * 1024,
            "memory_from": "cgroup"}
OUT_OF_MEMORY = dict(SEGFAULT, ended="limit", signal="SIGKILL", limit="memory",
                     limit_value="1 GiB")


def test_each_player_sees_how_its_own_programs_ended_and_staff_see_all(client, alice, bob,
                                                                         staff):
    mine, theirs = ready_champion(alice, "mine"), ready_champion(bob, "theirs")
    match = finished_match(alice, [mine, theirs])
    first, second = match.players.all()
    MatchPlayer.objects.filter(pk=first.pk).update(score=0, verdict=SEGFAULT)
    MatchPlayer.objects.filter(pk=second.pk).update(score=0, verdict=OUT_OF_MEMORY)
    url = reverse("match-detail", args=[match.pk])
    crashed = "crashed: segmentation fault (SIGSEGV)"
    stopped = "stopped: used more than 1 GiB of memory"

    client.force_login(alice)
    page = text(client.get(url))
    assert crashed in page and "CPU 1.52 s, wall 3.10 s, peak memory 12 MiB" in page
    assert stopped not in page
    client.force_login(bob)
    page = text(client.get(url))
    assert stopped in page and crashed not in page
    client.force_login(staff)
    page = text(client.get(url))
    assert stopped in page and crashed in page


def test_a_retried_match_says_the_platform_failed(alice_client, alice, bob):
    match = finished_match(alice, [ready_champion(alice, "mine"), ready_champion(bob, "b")])
    Match.objects.filter(pk=match.pk).update(
        status=Match.Status.NEW, failure_reason="the game server exited with status 3",
        server_verdict=dict(SEGFAULT, ended="exit", signal="", exit_status=3))

    page = text(alice_client.get(reverse("match-detail", args=[match.pk])))

    assert ("the game server failed (platform fault; the match is retried): the game server "
            "exited with status 3") in page
    assert "exited with status 3 <small>(CPU" in page


def _outputs(site, match):
    """The outputs a worker publishes for attempt 1."""
    first, second = match.players.all()
    published = {paths.SERVER_LOG: "server says hi\n", first.log_name(): "first player log\n",
                 second.log_name(): "second player log\n",
                 paths.DUMP: tictactoe_dump([first.pk, second.pk]), paths.REPLAY: b"replay bytes"}
    for name, data in published.items():
        write_file(match_file(site, match, f"attempt-1/{name}"), data)
    return first, second


def body(response):
    return b"".join(response.streaming_content)


def test_each_output_is_checked_for_permission(client, alice, bob, staff, site):
    carol = type(alice).objects.create_user("carol")
    mine, theirs = ready_champion(alice, "mine"), ready_champion(bob, "theirs")
    match = finished_match(alice, [mine, theirs])
    first, second = _outputs(site, match)
    server_log = reverse("match-server-log-download", args=[match.pk])
    server_log_page = reverse("match-server-log", args=[match.pk])
    dump = reverse("match-dump", args=[match.pk])
    replay = reverse("match-replay", args=[match.pk])
    log_of = {p: reverse("match-player-log-download", args=[match.pk, p.pk])
              for p in (first, second)}
    page_of = {p: reverse("match-player-log", args=[match.pk, p.pk]) for p in (first, second)}

    # A user with no part in the match sees the page but none of its outputs.
    client.force_login(carol)
    for url in (server_log, server_log_page, dump, replay, *log_of.values(),
                *page_of.values()):
        assert client.get(url).status_code == 403, url
    page = text(client.get(reverse("match-detail", args=[match.pk])))
    assert server_log not in page and "Replay" not in page

    # Each player's author reads the shared outputs and their own log only.
    client.force_login(bob)
    assert body(client.get(server_log)) == b"server says hi\n"
    assert body(client.get(replay)) == b"replay bytes"
    assert gzip.decompress(body(client.get(dump))).startswith(b'{"game": "tictactoe"')
    assert body(client.get(log_of[second])) == b"second player log\n"
    assert "second player log" in text(client.get(page_of[second]))
    assert "server says hi" in text(client.get(server_log_page))
    assert client.get(log_of[first]).status_code == 403
    assert client.get(page_of[first]).status_code == 403

    client.force_login(staff)
    assert body(client.get(log_of[first])) == b"first player log\n"
    assert body(client.get(log_of[second])) == b"second player log\n"

    # A player number from another match is not found.
    other = finished_match(alice, [mine, mine])
    for name in ("match-player-log", "match-player-log-download"):
        assert client.get(reverse(name, args=[other.pk, first.pk])).status_code == 404


def test_outputs_are_the_newest_published_attempts(alice_client, alice, bob, site):
    """The applied attempt's (the newest published), not an older one's nor one being
    written; the files of the layout from before attempts where none is published."""
    match = finished_match(alice, [ready_champion(alice, "mine"), ready_champion(bob, "theirs")])
    server_log = reverse("match-server-log-download", args=[match.pk])
    write_file(match_file(site, match, paths.SERVER_LOG), "from before attempts\n")
    assert body(alice_client.get(server_log)) == b"from before attempts\n"

    for entry, words in (("attempt-2", "applied"), ("attempt-1", "stale"),
                         (".attempt-3.staging", "half written")):
        write_file(match_file(site, match, f"{entry}/{paths.SERVER_LOG}"), f"{words}\n")
    assert body(alice_client.get(server_log)) == b"applied\n"


def play(match, scores):
    """Apply a worker's result for `match` as the master does: scores in seat order."""
    Match.objects.filter(pk=match.pk).update(status=Match.Status.PENDING, attempts=1)
    players = match.players.order_by("id")
    with transaction.atomic():
        assert transitions.apply_match_result(match.pk, 1, {"status": "done", "players": [
            {"matchplayer_id": p.pk, "score": score, "nb_timeout": 0, "exit_status": 0}
            for p, score in zip(players, scores, strict=True)]}, max_tries=3)


def test_a_match_page_shows_the_rating_change_it_caused(alice_client, alice, bob):
    mine, theirs = ready_champion(alice, "mine"), ready_champion(bob, "theirs")
    first = Match.launch([mine, theirs], author=alice)
    play(first, [2, 0])
    second = Match.launch([mine, theirs], author=alice)
    play(second, [2, 0])
    after_first = MatchPlayer.objects.get(match=first, champion=mine)
    after_second = MatchPlayer.objects.get(match=second, champion=mine)
    initial = ratings.Rating()

    page = text(alice_client.get(reverse("match-detail", args=[second.pk])))

    assert "yes: it moved its champions' ratings" in page
    before = ratings.Rating(after_first.rating_mu, after_first.rating_sigma)
    after = ratings.Rating(after_second.rating_mu, after_second.rating_sigma)
    assert (f"{before.display:.2f} → {after.display:.2f} "
            f"<strong>({after.display - before.display:+.2f})</strong>") in page
    assert (f"{before.mu:.2f} ± {before.sigma:.2f} → {after.mu:.2f} ± {after.sigma:.2f}"
            in page)
    # The first match starts from the initial rating: a high uncertainty, a third of the mean.
    page = text(alice_client.get(reverse("match-detail", args=[first.pk])))
    assert f"{initial.mu:.2f} ± {initial.sigma:.2f} → " in page
    assert initial.sigma == pytest.approx(initial.mu / 3)


def test_a_match_between_ones_own_champions_is_a_friendly(alice_client, alice):
    good, crashing = ready_champion(alice, "good"), ready_champion(alice, "crashing")
    friendly = Match.launch([good, crashing], author=alice)
    play(friendly, [2, 0])

    page = text(alice_client.get(reverse("match-detail", args=[friendly.pk])))
    assert ('<span class="friendly">Friendly</span>: two of its champions are one player\'s, '
            'so it changes no rating') in page
    assert "Rating change" not in page
    assert ">friendly</span>" in text(alice_client.get(reverse("match-list")))
    assert Champion.objects.get(pk=good.pk).rated_games == 0
