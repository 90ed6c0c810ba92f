import os
from typing import NamedTuple
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.template import engines
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin

from stechec.common import paths
from stechec.contest import champion_ratings, ratings
from stechec.contest.models import Match, MatchPlayer
from stechec.www.contest import conf, files, limits, picker, rules
from stechec.www.contest.forms import MatchForm
from stechec.www.contest.match_lists import listed_matches, with_champion, with_players
from stechec.www.contest.pagination import paginate
from stechec.www.contest.public import (
    PUBLIC_MATCHES,
    is_public_match,
    public_match_id,
    public_results_or_login,
    tournament_filter,
)
from stechec.www.contest.views import live
from stechec.www.siteconfig import replay_viewer_dir

# The match form suggests the user's latest ready champions before any search.
MY_CHAMPIONS_LISTED = 50


def _int_param(request, name):
    """A numeric id from the query string, or None when absent or not a possible id."""
    try:
        value = int(request.GET[name])
    except (KeyError, ValueError):
        return None
    return value if 0 < value <= picker.MAX_ID else None


# The match list's `verdict` filter: the players' verdicts it selects
# (stechec.common.verdicts), or None for the platform's fault.
VERDICT_FILTERS = {
    "crashed": Q(verdict__ended="signal") | (Q(verdict__ended="exit")
                                            & ~Q(verdict__exit_status=0)),
    "memory": Q(verdict__ended="limit", verdict__limit="memory"),
    "time": Q(verdict__ended="limit", verdict__limit__in=["cpu", "wall"]),
    "timeout": Q(has_timeout=True),
    "platform": None,
}
# Everyone sees timeouts; how a champion's program ended, only its author and staff.
PUBLIC_VERDICT_FILTERS = {"timeout"}


def with_verdict(matches, verdict, user):
    """The matches of `verdict` (a VERDICT_FILTERS key); those of a verdict `user` may not
    read are limited to the players of their own champions."""
    players = VERDICT_FILTERS[verdict]
    if players is None:
        return matches.filter(fault=Match.Fault.PLATFORM)
    if verdict not in PUBLIC_VERDICT_FILTERS and not user.is_staff:
        players &= Q(champion__author_id=user.id)
    return matches.filter(id__in=MatchPlayer.objects.filter(players).values("match_id"))


@public_results_or_login(tournament_filter)
def match_list(request, mine=False):
    matches = listed_matches()
    filters = {}
    if not request.user.is_authenticated:
        # A visitor reads a tournament's finished matches, and nothing else.
        matches = matches.filter(PUBLIC_MATCHES)
    if mine:
        matches = matches.filter(author=request.user)
    champion_id = _int_param(request, "champion")
    if champion_id is not None:
        matches = with_champion(matches, champion_id)
        filters["champion"] = champion_id
    author = request.GET.get("author", "").strip()
    if author and not mine:
        matches = matches.filter(author__username=author)
        filters["author"] = author
    tournament_id = _int_param(request, "tournament")
    if tournament_id is not None:
        matches = matches.filter(tournament_id=tournament_id)
        filters["tournament"] = tournament_id
    verdict = request.GET.get("verdict", "")
    if verdict:
        if verdict not in VERDICT_FILTERS:
            return HttpResponseBadRequest(f"unknown verdict {verdict!r}: the filter takes "
                                          + ", ".join(VERDICT_FILTERS), content_type="text/plain")
        matches = with_verdict(matches, verdict, request.user)
        filters["verdict"] = verdict
    page = paginate(request, matches)
    page.items = with_players(page.items)
    return render(request, "stechec/match_list.html", {
        "page": page, "mine": mine, "filters": filters,
        "query": urlencode(filters), "verdicts": VERDICT_FILTERS,
    })


def _initial_seats(request, ready, seats):
    """The form's first values: `?champion=<id>` in the first seat (a champion page's
    "Start a match with it"), `?opponent=<id>` in the last (a "Challenge" button), and the
    user's latest ready champion in the first seat when it is not given."""
    initial = {}
    wanted = {"champion_1": _int_param(request, "champion"),
              f"champion_{seats}": _int_param(request, "opponent")}
    for seat, pk in wanted.items():
        champion = pk and ready.select_related("author").filter(pk=pk).first()
        if champion:
            initial[seat] = picker.label(champion)
    if "champion_1" not in initial:
        mine = ready.filter(author=request.user).select_related("author").first()
        if mine:
            initial["champion_1"] = picker.label(mine)
    return initial


@login_required
def match_new(request):
    seats = conf.contest()["nb_players"]
    ready = picker.ready_champions(request.user)
    initial = {} if request.method == "POST" else _initial_seats(request, ready, seats)
    form = MatchForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            match = rules.launch_match(request.user, form.champions(), form.chosen_map())
        except limits.LimitReached as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Match %(number)s created; it is waiting for a worker.")
                             % {"number": match.pk})
            return redirect("match-detail", pk=match.pk)
    mine = ready.filter(author=request.user).select_related("author")
    return render(request, "stechec/match_form.html", {
        "form": form, "my_champions": [picker.label(c) for c in mine[:MY_CHAMPIONS_LISTED]],
        "nb_players": seats,
        "own_only": conf.website()["own_champions_only"] and not request.user.is_staff,
    })


@login_required
@never_cache
def match_champion_search(request):
    """Suggestions for the match form's champion fields (picker.suggestions)."""
    return JsonResponse({"choices": picker.suggestions(picker.ready_champions(request.user),
                                                       request.GET.get("q", "")[:100])})


def _outputs(match):
    root, game = conf.shared_root()
    return match.outputs_directory(root, game)


@public_results_or_login(public_match_id)
def match_detail(request, pk):
    match = rules.match(pk)
    user = request.user
    outputs = match.can_read_outputs(user)
    replayable = outputs or is_public_match(match)
    players = [{"player": p, "log": p.can_read_log(user), "rating": _rating_change(match, p)}
               for p in match.players.all()]
    # The game's replay viewer reads the dump itself: the page never opens it.
    replay = {}
    if replayable and match.status == Match.Status.DONE:
        replay = ({"viewer_url": reverse("match-viewer", args=[match.pk])}
                  if os.path.isfile(f"{_outputs(match)}/{paths.DUMP}")
                  else {"message": _("This match has no dump.")})
    return render(request, "stechec/match_detail.html", {
        "match": match, "players": players, "outputs": outputs, "replayable": replayable,
        "replay": replay,
        "live": live.page_context(reverse("match-live", args=[pk]), live.match_state(match),
                                  match.in_progress),
        "friendly": champion_ratings.is_friendly([p.champion.author_id
                                                  for p in match.players.all()]),
    })


class RatingChange(NamedTuple):
    before: ratings.Rating
    after: ratings.Rating

    @property
    def shown_change(self):
        """The displayed rating's change, signed: "+1.25", "-0.50"."""
        return f"{self.after.display - self.before.display:+.2f}"


def _rating_change(match, player):
    """The rating this match gave `player`'s champion and the one it had before (its
    previous rated match's, or the initial rating), or None when the match was not rated."""
    if match.rated_seq is None or player.rating_mu is None:
        return None
    before = (MatchPlayer.objects.filter(champion_id=player.champion_id,
                                         match__rated_seq__lt=match.rated_seq,
                                         rating_mu__isnull=False)
              .order_by("-match__rated_seq").values_list("rating_mu", "rating_sigma").first())
    return RatingChange(ratings.Rating(*before) if before else ratings.Rating(),
                        ratings.Rating(player.rating_mu, player.rating_sigma))


@public_results_or_login(public_match_id)
@xframe_options_sameorigin
def match_viewer(request, pk):
    """The game's replay viewer page (website.replay_page, a template), given the URL of
    this match's dump; the match page embeds it."""
    match = rules.match_with_outputs(request.user, pk, public=True)
    www = conf.website()
    with open(os.path.join(replay_viewer_dir(www), www["replay_page"]), encoding="utf-8") as f:
        page = engines["django"].from_string(f.read())
    return HttpResponse(page.render({
        "match_id": match.pk, "game": conf.contest()["game"],
        "dump_url": reverse("match-dump-json", args=[match.pk]),
        "download_url": reverse("match-dump", args=[match.pk]),
        "static_url": f"{settings.STATIC_URL}game/",
        # The dump names players by their match player number, as the worker does.
        "players": {str(p.pk): p.champion.name for p in match.players.all()},
    }, request))


@login_required
def match_server_log(request, pk):
    match = rules.match_with_outputs(request.user, pk)
    return files.log_page(request, f"{_outputs(match)}/{paths.SERVER_LOG}",
                          _("Server log of match %(number)s") % {"number": pk},
                          reverse("match-detail", args=[pk]),
                          reverse("match-server-log-download", args=[pk]))


@login_required
def match_server_log_download(request, pk):
    match = rules.match_with_outputs(request.user, pk)
    return files.download(f"{_outputs(match)}/{paths.SERVER_LOG}", paths.SERVER_LOG,
                          files.LOG_TYPE)


@login_required
def match_player_log(request, pk, player_pk):
    match, player = rules.player_with_log(request.user, pk, player_pk)
    return files.log_page(request, f"{_outputs(match)}/{player.log_name()}",
                          _("Log of %(name)s in match %(number)s")
                          % {"name": player.champion.name, "number": pk},
                          reverse("match-detail", args=[pk]),
                          reverse("match-player-log-download", args=[pk, player_pk]))


@login_required
def match_player_log_download(request, pk, player_pk):
    match, player = rules.player_with_log(request.user, pk, player_pk)
    name = player.log_name()
    return files.download(f"{_outputs(match)}/{name}", name, files.LOG_TYPE)


@public_results_or_login(public_match_id)
def match_dump(request, pk):
    match = rules.match_with_outputs(request.user, pk, public=True)
    return files.download(f"{_outputs(match)}/{paths.DUMP}", f"match-{match.pk}-dump.json.gz",
                          "application/gzip")


@public_results_or_login(public_match_id)
def match_dump_json(request, pk):
    """The dump decompressed, for replay viewers: streamed, gzip-encoded when the
    browser takes it (it decompresses it itself)."""
    match = rules.match_with_outputs(request.user, pk, public=True)
    return files.gunzipped(request, f"{_outputs(match)}/{paths.DUMP}",
                           f"match-{match.pk}-dump.json", "application/json")


@public_results_or_login(public_match_id)
def match_replay(request, pk):
    match = rules.match_with_outputs(request.user, pk, public=True)
    return files.download(f"{_outputs(match)}/{paths.REPLAY}", f"match-{match.pk}-replay")
