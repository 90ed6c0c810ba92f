from django.shortcuts import get_object_or_404, render

from stechec.contest import ratings
from stechec.contest.models import Champion
from stechec.www.contest import charts, picker, rules
from stechec.www.contest.public import public_results_or_login


@public_results_or_login()
def leaderboard(request):
    """Each player's best rated champion, best first (docs/tournaments.md, "Ratings")."""
    rows = rules.leaderboard_rows()
    return render(request, "stechec/leaderboard.html", {
        "rows": rows, "sigmas": ratings.DISPLAY_SIGMAS,
        "challenge": picker.may_challenge(request.user)})


@public_results_or_login()
def champion_rating(request, pk):
    champion = get_object_or_404(Champion.objects.select_related("author"), pk=pk)
    history = rules.rating_history(champion)
    start = ratings.Rating()
    mus = [start.mu] + [mu for _, mu, _ in history]
    shown = [start.display] + [ratings.Rating(mu, sigma).display for _, mu, sigma in history]
    chart = charts.line_chart([("displayed rating", "shown", shown), ("mean (mu)", "mu", mus)],
                              label=f"rating history of {champion.name}",
                              caption=f"{len(history)} rated matches (latest on the right)"
                              ) if history else ""
    return render(request, "stechec/champion_rating.html", {
        "champion": champion, "chart": chart,
        "history": [(match_id, ratings.Rating(mu, sigma).display, mu, sigma)
                    for match_id, mu, sigma in history[-20:][::-1]],
        "sigmas": ratings.DISPLAY_SIGMAS})
