"""The rules the site's pages and the API both apply: one function for each, so that a
rule cannot hold on one and not the other (tests/www/test_api_rules.py runs each refusal
through both).

Refusals are Django's own exceptions (Http404, PermissionDenied) or limits.LimitReached;
the archive checks are ChampionUploadForm's, which the API fills too.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from stechec.contest import tournaments
from stechec.contest.models import Champion, Match, MatchPlayer, shown_name_of
from stechec.www.contest import conf, limits
from stechec.www.contest.public import is_public_match


def champion(user, pk):
    """The champion `pk`; a deleted one exists for staff only."""
    found = get_object_or_404(Champion.objects.select_related("author__profile"), pk=pk)
    if found.deleted and not user.is_staff:
        raise Http404(_("No such champion."))
    return found


def private_champion(user, pk):
    """The champion `pk`, whose sources and compile log `user` may read."""
    found = champion(user, pk)
    if not found.can_read_private(user):
        raise PermissionDenied(_("Only the champion's author can see this."))
    return found


def delete_champion(user, pk):
    found = champion(user, pk)
    if found.author_id != user.id:
        raise PermissionDenied(_("Only the champion's author can delete it."))
    found.soft_delete()
    return found


def match(pk):
    """The match `pk` with its players (and their champions and shown names)."""
    players = MatchPlayer.objects.select_related("champion").annotate(
        author_name=shown_name_of("champion__author"))
    return get_object_or_404(Match.objects.select_related("author", "map", "tournament")
                             .prefetch_related(Prefetch("players", queryset=players)), pk=pk)


def match_with_outputs(user, pk, *, public=False):
    """The match, when `user` may read its outputs; `public`: these outputs (its dump
    and replay) are also anyone's while the match is public (a finished tournament match,
    public results)."""
    found = match(pk)
    if not (public and is_public_match(found)) and not found.can_read_outputs(user):
        raise PermissionDenied(_("Only the match's author, its players' authors and the "
                                 "organisers can see this."))
    return found


def player_with_log(user, pk, player_pk):
    """The match `pk` and its player `player_pk`, whose log `user` may read."""
    found = match(pk)
    player = next((p for p in found.players.all() if p.pk == player_pk), None)
    if player is None:
        raise Http404(_("No such player in this match."))
    if not player.can_read_log(user):
        raise PermissionDenied(_("Only the champion's author can see its log."))
    return found, player


def launch_match(user, champions, map=None):
    """Launch a match of `user`'s between `champions` (in seat order), within their limit
    of matches in flight; raise limits.LimitReached."""
    with transaction.atomic():
        limits.lock_user(user)
        limits.check_matches_in_flight(user)
        return Match.launch(champions, author=user, map=map)


def leaderboard_rows():
    """Each player's best rated champion, best first (docs/tournaments.md, "Ratings"), as
    dicts of the champion's fields."""
    best = {}
    for row in (Champion.objects.visible().filter(status=Champion.Status.READY,
                                                  rated_games__gt=0)
                .order_by("-rating", "id")
                .values("pk", "name", "author_id", "author__username", "rating", "rating_mu",
                        "author__profile__display_name",
                        "rating_sigma", "rated_games")):
        best.setdefault(row["author__username"], row)
    return sorted(best.values(), key=lambda row: (-row["rating"], row["pk"]))


def tournament_entrants(data):
    """The champions a TournamentForm's cleaned `data` enters: the numbers given, or each
    player's latest ready champion (before its deadline, staff's if asked)."""
    return data["champions"] or tournaments.default_champions(data["deadline"],
                                                              data["include_staff"])


def create_tournament(data, champions):
    """A tournament from a TournamentForm's cleaned `data`; raise ValueError (the core's
    refusal: a champion not ready, too few of them...)."""
    return tournaments.create(data["name"], data["format"], champions,
                              [m.pk for m in data["maps"]],
                              nb_players=conf.contest()["nb_players"], rounds=data["rounds"] or 0)


# The rated matches a champion's rating history shows (the latest ones).
RATING_HISTORY_POINTS = 500


def rating_history(champion, points=RATING_HISTORY_POINTS):
    """(match id, mu, sigma) after each of `champion`'s latest `points` rated matches,
    oldest first."""
    history = list(MatchPlayer.objects.filter(champion=champion, rating_mu__isnull=False)
                   .order_by("-match__rated_seq")
                   .values_list("match_id", "rating_mu", "rating_sigma")[:points])
    history.reverse()
    return history
