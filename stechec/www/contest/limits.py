"""Per-user limits from website.yml: uploads per minute, matches in flight, failed
sign-ins, password reset mails.

Counted in the database, so they hold across every gunicorn worker. Callers
check inside the transaction that creates the row, after locking the user's
row (`lock_user`), so that two requests at once cannot both slip under. Failed
sign-ins are counted by user name, whoever tries them: they are the
password guesses the limit is there to slow down. Reset mails are counted by
address, whether or not an account has it, so the answer says nothing of who has one.
"""

import datetime
import math

from django.contrib.auth import authenticate, get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from stechec.contest.models import Champion, Match, PasswordResetRequest, SignInFailure
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
        seconds, time = _free_again(recent, limit, window, now)
        raise LimitReached(_("You uploaded %(count)s champions in the last minute; the limit "
                             "is %(limit)s a minute. You may upload again in %(seconds)s s "
                             "(at %(time)s).")
                           % {"count": len(recent), "limit": limit, "seconds": seconds,
                              "time": time},
                           retry_after=seconds)


def authenticate_limited(request, username, password):
    """django.contrib.auth's authenticate under the limit on failed sign-ins: raise
    LimitReached when `username` failed website.sign_in_failures times in the last
    website.sign_in_window_minutes (without checking the password); a failure counts, a
    success forgets the user name's failures. The sign-in page and the API's HTTP Basic
    sign-in both come here."""
    limit = conf.website()["sign_in_failures"]
    minutes = conf.website()["sign_in_window_minutes"]
    window = datetime.timedelta(minutes=minutes)
    now = timezone.now()
    # As long as a user name may be: a longer one is no user's, and must still fit the column.
    key = username.lower()[:SignInFailure._meta.get_field("username").max_length]
    recent = list(SignInFailure.objects.filter(username=key, ts__gte=now - window)
                  .order_by("ts").values_list("ts", flat=True))
    if len(recent) >= limit:
        seconds, time = _free_again(recent, limit, window, now)
        raise LimitReached(_("%(count)s failed sign-ins for this user name in the last "
                             "%(minutes)s minutes. You may try again in %(seconds)s s "
                             "(at %(time)s).")
                           % {"count": len(recent), "minutes": minutes, "seconds": seconds,
                              "time": time},
                           retry_after=seconds)
    user = authenticate(request, username=username, password=password)
    if user is None:
        # Failures that no longer count go as new ones come: the table stays small.
        SignInFailure.objects.filter(ts__lt=now - window).delete()
        SignInFailure.objects.create(username=key, ts=now)
    else:
        SignInFailure.objects.filter(username=key).delete()
    return user


def count_password_reset(email):
    """Count a password reset mail asked for `email`, or raise LimitReached when the
    address was asked for website.password_resets_per_hour of them in the last hour."""
    limit = conf.website()["password_resets_per_hour"]
    window = datetime.timedelta(hours=1)
    now = timezone.now()
    key = email.lower()[:PasswordResetRequest._meta.get_field("email").max_length]
    recent = list(PasswordResetRequest.objects.filter(email=key, ts__gte=now - window)
                  .order_by("ts").values_list("ts", flat=True))
    if len(recent) >= limit:
        seconds, time = _free_again(recent, limit, window, now)
        raise LimitReached(_("%(count)s password reset mails were asked for this address in "
                             "the last hour. You may ask again in %(seconds)s s (at %(time)s).")
                           % {"count": len(recent), "seconds": seconds, "time": time},
                           retry_after=seconds)
    PasswordResetRequest.objects.filter(ts__lt=now - window).delete()
    PasswordResetRequest.objects.create(email=key, ts=now)


def _free_again(recent, limit, window, now):
    """When fewer than `limit` of the sorted times `recent` remain in the window ending
    then: (seconds from now, at least 1; that time of day, local)."""
    again = recent[len(recent) - limit] + window
    seconds = max(1, math.ceil((again - now).total_seconds()))
    return seconds, f"{timezone.localtime(again):%H:%M:%S}"


def check_matches_in_flight(user):
    limit = conf.website()["matches_in_flight_per_user"]
    in_flight = Match.objects.filter(author=user, status__in=Match.IN_FLIGHT).count()
    if in_flight >= limit:
        raise LimitReached(_("You already have %(count)s matches waiting or running; the "
                             "limit is %(limit)s. Wait for some of them to finish.")
                           % {"count": in_flight, "limit": limit})
