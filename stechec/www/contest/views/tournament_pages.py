import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from stechec.contest import standings, tournaments
from stechec.contest.models import Champion, Tournament
from stechec.www.contest import rules
from stechec.www.contest.forms import TournamentForm
from stechec.www.contest.pagination import paginate
from stechec.www.contest.public import public_results_or_login
from stechec.www.contest.tournament_reports import Report
from stechec.www.contest.views import live


@public_results_or_login()
def tournament_list(request):
    return render(request, "stechec/tournament_list.html",
                  {"page": paginate(request, Tournament.objects.all())})


def _sentence(error):
    """A core module's error ("champion 3 is not ready") as a sentence for the page."""
    text = str(error)
    return f"{text[:1].upper()}{text[1:]}."


def _staff_only(request, what):
    if not request.user.is_staff:
        raise PermissionDenied(_("Only organisers %(what)s.") % {"what": what})


@public_results_or_login()
def tournament_detail(request, pk):
    tournament = get_object_or_404(Tournament, pk=pk)
    report = Report(tournament)
    return render(request, "stechec/tournament_detail.html", {
        "tournament": tournament, "report": report, "maps": report.maps,
        "table": report.table(), "matrix": report.matrix(), "progress": report.progress,
        "live": live.page_context(reverse("tournament-live", args=[pk]),
                                  live.tournament_state(tournament),
                                  tournament.status == Tournament.Status.RUNNING),
    })


def _csv_response(tournament, suffix, write):
    out = io.StringIO()
    write(out)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="tournament-{tournament.pk}-'
                                       f'{suffix}.csv"')
    return response


@public_results_or_login()
def tournament_standings_csv(request, pk):
    report = Report(get_object_or_404(Tournament, pk=pk))
    return _csv_response(report.tournament, "standings", lambda out: standings.write_csv(
        report.standings, out, report.names))


@public_results_or_login()
def tournament_matrix_csv(request, pk):
    report = Report(get_object_or_404(Tournament, pk=pk))
    return _csv_response(report.tournament, "matrix", lambda out: standings.write_matrix_csv(
        report.standings, out, report.names))


def _entrants(champion_ids):
    """The champions of these ids, as the form lists them: by player."""
    return (Champion.objects.filter(pk__in=champion_ids).select_related("author")
            .order_by("author__username", "id"))


@login_required
def tournament_new(request):
    _staff_only(request, _("create tournaments"))
    form = TournamentForm(request.POST or None)
    # What "Create" would enter, shown before it does: the default's pick (each player's
    # latest ready champion) or the numbers typed.
    entrants = None if request.method == "POST" else tournaments.default_champions()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        champions = rules.tournament_entrants(data)
        if "preview" in request.POST:
            entrants = champions
        else:
            try:
                tournament = rules.create_tournament(data, champions)
            except ValueError as e:
                form.add_error(None, _sentence(e))
            else:
                return _created(request, tournament, data["launch"], len(champions))
    return render(request, "stechec/tournament_form.html", {
        "form": form, "entrants": None if entrants is None else _entrants(entrants)})


def _created(request, tournament, launch, nb_champions):
    if launch:
        queued = tournaments.launch(tournament)
        messages.success(request, _("Tournament %(name)s launched: %(queued)s matches queued.")
                         % {"name": tournament.name, "queued": queued})
    else:
        messages.success(request, _("Tournament %(name)s created with %(count)s champions.")
                         % {"name": tournament.name, "count": nb_champions})
    return redirect("tournament-detail", pk=tournament.pk)


@login_required
@require_POST
def tournament_launch(request, pk):
    _staff_only(request, _("launch tournaments"))
    tournament = get_object_or_404(Tournament, pk=pk)
    try:
        queued = tournaments.launch(tournament)
    except ValueError as e:
        messages.error(request, _sentence(e))
    else:
        messages.success(request, _("Tournament launched: %(queued)s matches queued.")
                         % {"queued": queued})
    return redirect("tournament-detail", pk=tournament.pk)


@login_required
@require_POST
def tournament_rerun_failed(request, pk):
    _staff_only(request, _("rerun tournament matches"))
    tournament = get_object_or_404(Tournament, pk=pk)
    count = tournaments.rerun_failed(tournament)
    messages.success(request, _("%(count)s failed matches queued again.") % {"count": count})
    return redirect("tournament-detail", pk=tournament.pk)
