"""Staff's operations page: pause and resume dispatching, drain workers, requeue failed
tasks in bulk, cancel matches; each action recorded (stechec.contest.operations) and the
latest listed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from stechec.contest import operations
from stechec.contest.models import Champion, Match, OperatorAction
from stechec.www.contest.cluster import MasterUnavailable, master_status
from stechec.www.contest.forms import RequeueForm

# Rows of each list the page shows.
SHOWN_ACTIONS = 30
SHOWN_RUNNING = 100


@login_required
@never_cache
def operations_page(request):
    if not request.user.is_staff:
        raise PermissionDenied(_("Only staff operate the cluster."))
    action = request.POST.get("action")
    requeue = RequeueForm(request.POST if action == "requeue" else None)
    if request.method == "POST" and (action != "requeue" or requeue.is_valid()):
        _act(request, action, requeue)
        return redirect("operations")
    return render(request, "stechec/operations.html", _context(requeue))


def _act(request, action, requeue):
    """Do the action posted, recorded as the user's; its outcome as a message."""
    actor = request.user.username
    if action in ("pause", "resume"):
        getattr(operations, action)(actor)
        messages.success(request, _("Dispatching paused: running tasks finish, nothing new "
                                    "starts.") if action == "pause"
                         else _("Dispatching resumed."))
    elif action in ("drain", "undrain"):
        worker = request.POST.get("worker", "")
        try:
            getattr(operations, action)(actor, worker)
        except ValueError:
            messages.error(request, _("%(worker)s is not a worker's host:port.")
                           % {"worker": repr(worker)})
            return
        messages.success(request, (_("Worker %(worker)s drained: it gets no new task.")
                                   if action == "drain"
                                   else _("Worker %(worker)s takes tasks again."))
                         % {"worker": worker})
    elif action == "cancel":
        match = request.POST.get("match", "").strip().lstrip("#")
        # ASCII digits, and few enough for a database column.
        if not (match.isascii() and match.isdigit() and len(match) < 19):
            messages.error(request, _("%(match)s is not a match number.")
                           % {"match": repr(match)})
            return
        try:
            operations.cancel_match(actor, int(match))
        except ValueError:
            messages.error(request, _("Match %(match)s is neither waiting nor running: nothing "
                                      "to cancel.") % {"match": match})
            return
        messages.success(request, _("Match %(match)s cancelled: the master stops it.")
                         % {"match": match})
    elif action == "requeue":
        count = requeue.requeue(actor)
        messages.success(request, _("%(count)s task(s) back in the queue.") % {"count": count})
    else:
        messages.error(request, _("Unknown action %(action)s.") % {"action": repr(action)})


def _context(requeue):
    state = operations.state()
    try:
        status, error = master_status(), None
    except MasterUnavailable as e:
        status, error = None, str(e)
    workers = []
    for worker in (status or {}).get("workers", []):
        name = f"{worker.get('hostname')}:{worker.get('port')}"
        workers.append({"name": name, "running": len(worker.get("running") or []),
                        "drained": name in state.drained, "connected": True})
    connected = {w["name"] for w in workers}
    workers += [{"name": name, "running": 0, "drained": True, "connected": False}
                for name in sorted(state.drained - connected)]
    return {
        "state": state,
        "paused_by": OperatorAction.objects.filter(
            action__in=(OperatorAction.Action.PAUSE, OperatorAction.Action.RESUME)).first(),
        "master_paused": status and status.get("paused"),
        "error": error,
        "workers": workers,
        "running": Match.objects.filter(status=Match.Status.PENDING).order_by("id")
        .select_related("tournament")[:SHOWN_RUNNING],
        "waiting": Match.objects.filter(status=Match.Status.NEW).count(),
        "failed_matches": Match.objects.filter(status=Match.Status.FAILED).exclude(
            fault=Match.Fault.CANCELLED).count(),
        "failed_champions": Champion.objects.filter(status=Champion.Status.FAILED).count(),
        "requeue": requeue,
        "actions": OperatorAction.objects.all()[:SHOWN_ACTIONS],
    }
