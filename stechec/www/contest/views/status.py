from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from stechec.www.contest import failures
from stechec.www.contest.views import live


@login_required
def cluster_status(request):
    context = live.status_page_context()
    if request.user.is_staff:
        context["failures"] = failures.failure_rates()
    return render(request, "stechec/status.html", context)
