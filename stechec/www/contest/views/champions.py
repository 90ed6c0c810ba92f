import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from stechec.common import paths
from stechec.contest.models import Champion
from stechec.www.contest import conf, files, picker, rules
from stechec.www.contest.forms import ChampionUploadForm
from stechec.www.contest.limits import LimitReached
from stechec.www.contest.logview import log_html
from stechec.www.contest.match_lists import listed_matches, with_champion, with_players
from stechec.www.contest.pagination import paginate
from stechec.www.contest.uploads import storage_failure, store_champion
from stechec.www.contest.views import live

RECENT_MATCHES = 20

logger = logging.getLogger(__name__)


def _outputs(champion):
    root, game = conf.shared_root()
    return champion.outputs_directory(root, game)


@login_required
def champion_list(request, mine=False):
    champions = Champion.objects.visible().select_related("author")
    if mine:
        champions = champions.filter(author=request.user)
    return render(request, "stechec/champion_list.html",
                  {"page": paginate(request, champions), "mine": mine})


@login_required
def champion_detail(request, pk):
    champion = rules.champion(request.user, pk)
    private = champion.can_read_private(request.user)
    log = None
    if private and not champion.in_progress:
        data = files.read_tail(f"{_outputs(champion)}/{paths.COMPILATION_LOG}")
        log = None if data is None else log_html(data)
    recent = with_players(with_champion(listed_matches(), champion.pk)[:RECENT_MATCHES])
    return render(request, "stechec/champion_detail.html", {
        "champion": champion, "private": private, "log": log,
        "matches": recent, "challenge": picker.may_challenge(request.user),
        "live": live.page_context(reverse("champion-live", args=[pk]),
                                  live.champion_state(champion), champion.in_progress),
    })


@login_required
def champion_new(request):
    form = ChampionUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            champion = store_champion(request.user, data["name"], data["comment"],
                                      data["sources"])
        except LimitReached as e:
            form.add_error(None, str(e))
        except OSError as e:
            logger.error("upload by %s: cannot store the archive: %s", request.user.username,
                         storage_failure(e), exc_info=True)
            form.add_error(None, _("The site could not store your archive (nothing was kept); "
                                   "the organisers can see why in the site's log. Please try "
                                   "again later."))
        else:
            folder = form.stripped_folder
            uploaded = (_("Champion %(name)s uploaded; it is waiting for compilation.")
                        % {"name": champion.name})
            if folder:
                uploaded += " " + (_("Its files were all in the folder %(folder)s/: they were "
                                     "taken as if at the top of the archive.")
                                   % {"folder": folder})
            messages.success(request, uploaded)
            return redirect("champion-detail", pk=champion.pk)
    return render(request, "stechec/champion_form.html", {"form": form,
                                                          "limits": conf.website()})


@login_required
def champion_log(request, pk):
    champion = rules.private_champion(request.user, pk)
    return files.log_page(request, f"{_outputs(champion)}/{paths.COMPILATION_LOG}",
                          _("Compilation log of %(name)s") % {"name": champion.name},
                          reverse("champion-detail", args=[pk]),
                          reverse("champion-log-download", args=[pk]))


@login_required
def champion_log_download(request, pk):
    champion = rules.private_champion(request.user, pk)
    return files.download(f"{_outputs(champion)}/{paths.COMPILATION_LOG}",
                          paths.COMPILATION_LOG, files.LOG_TYPE)


@login_required
def champion_sources(request, pk):
    champion = rules.private_champion(request.user, pk)
    root, game = conf.shared_root()
    return files.download(f"{champion.directory(root, game)}/{paths.CHAMPION_SOURCES}",
                          f"champion-{champion.pk}.tgz", "application/gzip")


@login_required
@require_POST
def champion_delete(request, pk):
    champion = rules.delete_champion(request.user, pk)
    messages.success(request, _("Champion %(name)s deleted.") % {"name": champion.name})
    return redirect("champion-mine")
