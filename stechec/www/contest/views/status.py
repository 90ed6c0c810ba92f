from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from stechec.www.contest.views import live


@login_required
def cluster_status(request):
    return render(request, "stechec/status.html", live.status_page_context())
