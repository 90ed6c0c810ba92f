from django.shortcuts import render

from stechec.contest.models import Champion
from stechec.www.contest.match_lists import listed_matches, with_players

RECENT = 5


def home(request):
    context = {}
    if request.user.is_authenticated:
        # The table shows each champion's author.
        context["champions"] = list(Champion.objects.visible().filter(author=request.user)
                                    .select_related("author")[:RECENT])
        context["matches"] = with_players(listed_matches().filter(author=request.user)[:RECENT])
    return render(request, "stechec/home.html", context)
