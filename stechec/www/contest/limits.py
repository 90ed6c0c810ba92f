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
    # What the player uploaded: champions seeded for them do not count.
    full = _window_full(Champion.objects.filter(author=user, seeded=False), limit,
                        datetime.timedelta(minutes=1))
    if full:
        count, seconds, time = full
        raise LimitReached(_("You uploaded %(count)s champions in the last minute; the limit "
                             "is %(limit)s a minute. You may upload again in %(seconds)s s "
                             "(at %(time)s).")
                           % {"count": count, "limit": limit, "seconds": seconds,
                              "time": time},
                           retry_after=seconds)


def authenticate_limited(request, username, password):
    """django.contrib.auth's authenticate under the limit on failed sign-ins: raise
    LimitReached when `username` failed website.sign_in_failures times in the last
    website.sign_in_window_minutes (without checking the password); a failure counts, a
    success forgets the user name's failures. The sign-in page, the API's HTTP Basic
    sign-in and the password change's old password all come here."""
    minutes = conf.website()["sign_in_window_minutes"]
    window = datetime.timedelta(minutes=minutes)
    key = _key(SignInFailure, "username", username)
    full = _window_full(SignInFailure.objects.filter(username=key),
                        conf.website()["sign_in_failures"], window)
    if full:
        count, seconds, time = full
        raise LimitReached(_("%(count)s failed sign-ins for this user name in the last "
                             "%(minutes)s minutes. You may try again in %(seconds)s s "
                             "(at %(time)s).")
                           % {"count": count, "minutes": minutes, "seconds": seconds,
                              "time": time},
                           retry_after=seconds)
    user = authenticate(request, username=username, password=password)
    if user is None:
        _record(SignInFailure, window, username=key)
    else:
        SignInFailure.objects.filter(username=key).delete()
    return user


def count_password_reset(email):
    """Count a password reset mail asked for `email`, or raise LimitReached when the
    address was asked for website.password_resets_per_hour of them in the last hour."""
    window = datetime.timedelta(hours=1)
    key = _key(PasswordResetRequest, "email", email)
    full = _window_full(PasswordResetRequest.objects.filter(email=key),
                        conf.website()["password_resets_per_hour"], window)
    if full:
        count, seconds, time = full
        raise LimitReached(_("%(count)s password reset mails were asked for this address in "
                             "the last hour. You may ask again in %(seconds)s s (at %(time)s).")
                           % {"count": count, "seconds": seconds, "time": time},
                           retry_after=seconds)
    _record(PasswordResetRequest, window, email=key)


def _key(model, field, text):
    """`text` lowercased, as long as `model`'s `field` may hold: a longer user name or
    address is nobody's, and must still fit the column."""
    return text.lower()[:model._meta.get_field(field).max_length]


def _record(model, window, **key):
    """A new row of `model` for `key`, now; rows that no longer count in the window go as
    new ones come, so the table stays small."""
    now = timezone.now()
    model.objects.filter(ts__lt=now - window).delete()
    model.objects.create(ts=now, **key)


def _window_full(queryset, limit, window):
    """None while `queryset` has fewer than `limit` rows in the `window` ending now (by
    their `ts`); else (how many it has, seconds from now until it has fewer, at least 1,
    and that time of day, local)."""
    now = timezone.now()
    recent = list(queryset.filter(ts__gte=now - window).order_by("ts")
                  .values_list("ts", flat=True))
    if len(recent) < limit:
        return None
    again = recent[len(recent) - limit] + window
    seconds = max(1, math.ceil((again - now).total_seconds()))
    return len(recent), seconds, f"{timezone.localtime(again):%H:%M:%S}"


def check_matches_in_flight(user):
    limit = conf.website()["matches_in_flight_per_user"]
    in_flight = Match.objects.filter(author=user, status__in=Match.IN_FLIGHT).count()
    if in_flight >= limit:
        raise LimitReached(_("You already have %(count)s matches waiting or running; the "
                             "limit is %(limit)s. Wait for some of them to finish.")
                           % {"count": in_flight, "limit": limit})
