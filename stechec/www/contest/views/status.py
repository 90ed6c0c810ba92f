from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from stechec.www.contest.cluster import MasterUnavailable, master_status


@login_required
def cluster_status(request):
    try:
        context = {"status": master_status()}
    except MasterUnavailable as e:
        context = {"error": str(e)}
    return render(request, "stechec/status.html", context)
