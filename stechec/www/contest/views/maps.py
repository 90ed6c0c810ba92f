from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from stechec.contest.models import Map
from stechec.www.contest.forms import MapForm
from stechec.www.contest.pagination import paginate


@login_required
def map_list(request):
    maps = Map.objects.select_related("author").defer("contents")
    return render(request, "stechec/map_list.html", {"page": paginate(request, maps)})


@login_required
def map_detail(request, pk):
    map = get_object_or_404(Map.objects.select_related("author"), pk=pk)
    return render(request, "stechec/map_detail.html", {"map": map})


@login_required
def map_new(request):
    form = MapForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.instance.author = request.user
        map = form.save()
        messages.success(request, _("Map %(name)s created.") % {"name": map.name})
        return redirect("map-detail", pk=map.pk)
    return render(request, "stechec/map_form.html", {"form": form})


@login_required
@require_POST
def map_official(request, pk):
    if not request.user.is_staff:
        raise PermissionDenied(_("Only organisers mark maps official."))
    map = get_object_or_404(Map, pk=pk)
    map.official = request.POST.get("official") == "1"
    map.save(update_fields=["official"])
    messages.success(request, (_("Map %(name)s is now official.") if map.official
                               else _("Map %(name)s is no longer official.")) % {"name": map.name})
    return redirect("map-detail", pk=map.pk)
