import pytest
from django.contrib.auth.models import User

from stechec.contest.models import Champion, Match, MatchPlayer

pytestmark = pytest.mark.django_db


def test_launch_creates_a_new_match_with_its_players_in_seat_order():
    alice = User.objects.create_user("alice")
    first = Champion.objects.create(name="first", author=alice, status=Champion.Status.READY)
    second = Champion.objects.create(name="second", author=alice, status=Champion.Status.READY)

    match = Match.launch([second, first], author=alice)

    match.refresh_from_db()
    assert match.status == Match.Status.NEW
    assert [p.champion for p in match.players.all()] == [second, first]


def test_launch_leaves_nothing_when_a_player_cannot_be_created():
    alice = User.objects.create_user("alice")
    unsaved = Champion(name="never saved", author=alice)

    with pytest.raises(ValueError):
        Match.launch([unsaved], author=alice)

    assert not Match.objects.exists()
    assert not MatchPlayer.objects.exists()
