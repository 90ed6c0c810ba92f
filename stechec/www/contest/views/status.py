from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from stechec.www.contest import charts, failures
from stechec.www.contest.views import live


def throughput_chart(throughput):
    """Results applied per minute over the complete minutes of status()'s throughput."""
    minutes = throughput.get("minutes")
    if not minutes:
        return ""
    # The minute under way is partial: it would show as a drop.
    return charts.line_chart(
        [(_("compilations"), "compile", (throughput.get("compile") or [])[:-1]),
         (_("matches"), "match", (throughput.get("match") or [])[:-1])],
        label=_("Tasks finished per minute"),
        caption=_("the last %(minutes)d minutes, one point a minute") % {"minutes": minutes - 1})


@login_required
def cluster_status(request):
    context = live.status_page_context()
    if request.user.is_staff:
        context["failures"] = failures.failure_rates()
        if "status" in context:
            context["throughput_chart"] = throughput_chart(context["status"]["throughput"])
    return render(request, "stechec/status.html", context)
