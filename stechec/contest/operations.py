"""Staff's actions on the cluster: pause, drain, requeue, cancel; each recorded.

The site's operations page and `stechec-manage` call these; each writes an
OperatorAction (who, when, what) in the transaction that does the work, and
its commit wakes the master (migration 0013 on PostgreSQL; the master polls
on SQLite), which reads the state back with `read` (docs/master-node.md,
"Operations"). A bad argument raises ValueError naming it, before anything
is written (translated for the commands, which print it; the site's page says
its own words).
"""

import dataclasses
import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from stechec.common.i18n import gettext, gettext_noop
from stechec.contest import reasons, transitions
from stechec.contest.models import Champion, Match, OperatorAction

Action = OperatorAction.Action

# The filters a bulk requeue takes, and which of the two kinds each applies to.
MATCH_FILTERS = ("tournament", "reason", "worker", "since")
CHAMPION_FILTERS = ("reason", "worker", "since")


@dataclasses.dataclass(frozen=True)
class State:
    """What the master obeys: whether it places tasks, and on which workers not."""

    paused: bool = False
    drained: frozenset = frozenset()
    # The latest action the state includes.
    last_id: int = 0


def read(after_id=0):
    """The state now, and the matches cancelled by actions after `after_id` (match ids)."""
    last_id = OperatorAction.objects.aggregate(last=Max("id"))["last"] or 0
    if last_id == after_id:
        return None, []
    latest = OperatorAction.objects.filter(
        action__in=(Action.PAUSE, Action.RESUME), id__lte=last_id).order_by(
        "-id").values_list("action", flat=True).first()
    drained = set()
    for action, worker in OperatorAction.objects.filter(
            action__in=(Action.DRAIN, Action.UNDRAIN), id__lte=last_id).order_by(
            "id").values_list("action", "target"):
        (drained.add if action == Action.DRAIN else drained.discard)(worker)
    cancelled = [int(target) for target in OperatorAction.objects.filter(
        action=Action.CANCEL, id__gt=after_id, id__lte=last_id).values_list("target", flat=True)]
    return State(latest == Action.PAUSE, frozenset(drained), last_id), cancelled


def state():
    """The state now (State)."""
    return read()[0] or State()


def _record(actor, action, target="", filter=None, outcome=""):
    actor = (actor or "").strip()
    if not actor:
        raise ValueError(gettext("who acts: a name is needed"))
    return OperatorAction.objects.create(actor=actor[:150], action=action, target=target,
                                         filter=filter, outcome=outcome)


def pause(actor):
    """Stop the master placing tasks; running ones finish and their results are applied."""
    return _record(actor, Action.PAUSE)


def resume(actor):
    return _record(actor, Action.RESUME)


def worker_name(name):
    """`name` as a worker's host:port, checked."""
    name = (name or "").strip()
    host, _, port = name.rpartition(":")
    if not host or not port.isdigit() or len(name) > 300:
        raise ValueError(gettext("worker %(name)s: not host:port (as the status page names "
                                 "it)") % {"name": repr(name)})
    return name


def drain(actor, worker):
    """Place no more tasks on `worker` (host:port); it finishes those it runs."""
    return _record(actor, Action.DRAIN, worker_name(worker))


def undrain(actor, worker):
    return _record(actor, Action.UNDRAIN, worker_name(worker))


def requeue_matches(actor, **filters):
    """Rerun the failed matches the filters select (transitions.rerun_matches); how many.

    Cancelled matches are left alone: staff ended them on purpose (the admin's rerun
    takes one back)."""
    failed = Match.objects.filter(status=Match.Status.FAILED).exclude(
        fault=Match.Fault.CANCELLED)
    matches = _filtered(failed, filters, MATCH_FILTERS)
    with transaction.atomic():
        count = transitions.rerun_matches(matches)
        _record(actor, Action.REQUEUE_MATCHES, filter=_shown(filters),
                outcome=f"{count} matches requeued")
    return count


def requeue_champions(actor, **filters):
    """Compile again the champions whose compilation failed for the platform
    (status failed) that the filters select; how many."""
    champions = _filtered(Champion.objects.filter(status=Champion.Status.FAILED), filters,
                          CHAMPION_FILTERS)
    with transaction.atomic():
        count = transitions.requeue_champions(champions)
        _record(actor, Action.REQUEUE_CHAMPIONS, filter=_shown(filters),
                outcome=f"{count} champions requeued")
    return count


def _filtered(queryset, filters, allowed):
    """`queryset` narrowed by `filters` (None or empty values ignored): the tournament's id,
    words of the failure reason (in any case), the worker of the latest attempt, and a time
    the task was queued at or after (a match given up after its tries has no end time)."""
    for key, value in filters.items():
        if value in (None, ""):
            continue
        if key not in allowed:
            raise ValueError(gettext("%(key)s: not a filter here (these are: %(allowed)s)")
                             % {"key": key, "allowed": ", ".join(allowed)})
        if key == "tournament":
            queryset = queryset.filter(tournament_id=_row_id(value, "tournament"))
        elif key == "reason":
            queryset = queryset.filter(failure_reason__icontains=value)
        elif key == "worker":
            queryset = queryset.filter(worker=worker_name(value))
        else:
            if not isinstance(value, datetime.datetime):
                raise ValueError(gettext("since: %(value)s is not a date and time")
                                 % {"value": repr(value)})
            queryset = queryset.filter(ts__gte=value)
    return queryset


# The refusal of a row's id that is not one, by what it names.
_NOT_AN_ID = {"match": gettext_noop("match %(value)s: not a match's number"),
              "tournament": gettext_noop("tournament %(value)s: not a tournament's number")}


def _row_id(value, what):
    """`value` as a row's id, which a database column can hold; `what` a key of
    _NOT_AN_ID."""
    if type(value) is not int or not 0 < value < 2**63:
        raise ValueError(gettext(_NOT_AN_ID[what]) % {"value": repr(value)})
    return value


def _shown(filters):
    """The filters given, as the record keeps them (JSON)."""
    return {key: value.isoformat() if isinstance(value, datetime.datetime) else value
            for key, value in filters.items() if value not in (None, "")}


def cancel_match(actor, match_id):
    """End a waiting or running match `failed`, cancelled by `actor`; the master stops its
    programs on the worker. Returns the reason the match shows; ValueError when it is
    neither waiting nor running."""
    now = timezone.now()
    reason = reasons.reason("cancelled", actor=str(actor), time=f"{now:%Y-%m-%d %H:%M:%S}")
    with transaction.atomic():
        if not transitions.cancel_match(_row_id(match_id, "match"), reason):
            raise ValueError(gettext("match %(match)s: neither waiting nor running")
                             % {"match": match_id})
        _record(actor, Action.CANCEL, str(match_id), outcome=reasons.text(reason))
    return reasons.text(reason)
