"""Per-user limits from website.yml: uploads per minute, matches in flight.

Counted in the database, so they hold across every gunicorn worker. Callers
check inside the transaction that creates the row, after locking the user's
row (`lock_user`), so that two requests at once cannot both slip under.
"""

import datetime
import math

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from stechec.contest.models import Champion, Match
from stechec.www.contest import conf


class LimitReached(Exception):
    """A per-user limit refuses the request; the message is for the user, and
    `retry_after` (seconds, or None when it depends on other events) says when to retry."""

    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


def lock_user(user):
    """Serialise this user's creations until the transaction ends (no-op on SQLite,
    whose write transactions are serialised anyway)."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def check_upload_rate(user):
    limit = conf.website()["uploads_per_minute"]
    window = datetime.timedelta(minutes=1)
    now = timezone.now()
    # What the player uploaded: champions seeded for them do not count.
    recent = list(Champion.objects.filter(author=user, seeded=False, ts__gte=now - window)
                  .order_by("ts").values_list("ts", flat=True))
    if len(recent) >= limit:
        # Once this upload is a minute old, fewer than `limit` remain in the window.
        again = recent[len(recent) - limit] + window
        seconds = max(1, math.ceil((again - now).total_seconds()))
        local = timezone.localtime(again)
        raise LimitReached(_("You uploaded %(count)s champions in the last minute; the limit "
                             "is %(limit)s a minute. You may upload again in %(seconds)s s "
                             "(at %(time)s).")
                           % {"count": len(recent), "limit": limit, "seconds": seconds,
                              "time": f"{local:%H:%M:%S}"},
                           retry_after=seconds)


def check_matches_in_flight(user):
    limit = conf.website()["matches_in_flight_per_user"]
    in_flight = Match.objects.filter(author=user, status__in=Match.IN_FLIGHT).count()
    if in_flight >= limit:
        raise LimitReached(_("You already have %(count)s matches waiting or running; the "
                             "limit is %(limit)s. Wait for some of them to finish.")
                           % {"count": in_flight, "limit": limit})
