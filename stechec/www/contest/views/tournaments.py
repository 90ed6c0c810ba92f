from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from stechec.www.contest.models import Tournament, TournamentPlayer
from stechec.www.contest.pagination import paginate


@login_required
def tournament_list(request):
    return render(request, "stechec/tournament_list.html",
                  {"page": paginate(request, Tournament.objects.all())})


def ranking(players):
    """(rank, player) best first: by points, equal points sharing a rank (1, 2, 2, 4).

    When the tournament runner stored every rank (its own tie-breaks), those win.
    """
    players = list(players)
    if players and all(p.rank is not None for p in players):
        return [(p.rank, p) for p in sorted(players, key=lambda p: (p.rank, -p.score))]
    rows = []
    for position, player in enumerate(sorted(players, key=lambda p: (-p.score, p.champion_id)),
                                      start=1):
        tied = rows and player.score == rows[-1][1].score
        rows.append((rows[-1][0] if tied else position, player))
    return rows


@login_required
def tournament_detail(request, pk):
    tournament = get_object_or_404(Tournament, pk=pk)
    players = TournamentPlayer.objects.filter(tournament=tournament)\
        .select_related("champion__author")
    maps = tournament.maps.all()
    return render(request, "stechec/tournament_detail.html", {
        "tournament": tournament, "ranking": ranking(players), "maps": maps,
        "match_count": tournament.matches.count(),
    })
