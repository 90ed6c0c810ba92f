"""Personal API tokens: created on the account page, shown once, stored as their SHA-256.

A request names one as `Authorization: Bearer <token>`. Its scopes bound what it may do:
`read` the safe methods, `submit` uploads, matches and deletions, `staff` the organisers'
endpoints (for staff accounts only). A browser's session may do all its user may.
"""

import datetime
import hashlib
import secrets

from django.utils import timezone
from django.utils.translation import gettext
from rest_framework import authentication, exceptions, permissions

from stechec.contest.models import ApiToken
from stechec.www.contest import limits
from stechec.www.contest.public import results_are_public

# What every token starts with, so that one pasted in a wrong place can be recognised.
TOKEN_PREFIX = "stc_"
# A token's last use is written at most this often (a client polling would otherwise
# write on every request).
LAST_USE_PRECISION = datetime.timedelta(minutes=1)
SCOPES = [scope.value for scope in ApiToken.Scope]


class BadToken(ValueError):
    """A token request that cannot be granted; the message is for the user."""


def digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def create(user, name, scopes):
    """A new token of `user`'s: (ApiToken, the token itself, which is not kept)."""
    name = name.strip()
    scopes = sorted(set(scopes))
    if not name:
        raise BadToken(gettext("A token needs a name."))
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise BadToken(gettext("A token's scopes are some of %(scopes)s; got %(got)s.")
                       % {"scopes": ", ".join(SCOPES), "got": ", ".join(scopes) or gettext("none")})
    if ApiToken.Scope.STAFF in scopes and not user.is_staff:
        raise BadToken(gettext("Only organisers' accounts may have a token with the staff scope."))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(user=user, name=name, digest=digest(token),
                                  prefix=token[:len(TOKEN_PREFIX) + 4], scopes=" ".join(scopes))
    return row, token


def revoke(user, pk):
    """Delete `user`'s token `pk`; whether there was one."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=pk).delete()
    return bool(deleted)


class LimitedBasicAuthentication(authentication.BasicAuthentication):
    """HTTP Basic under the site's limit on failed sign-ins (limits.authenticate_limited):
    a user name refused for now answers 429 with Retry-After."""

    def authenticate_credentials(self, userid, password, request=None):
        try:
            user = limits.authenticate_limited(request, userid, password)
        except limits.LimitReached as e:
            raise exceptions.Throttled(wait=e.retry_after, detail=str(e)) from None
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid user name or password.")
        return user, None


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        words = authentication.get_authorization_header(request).split()
        if not words or words[0].decode(errors="replace") != self.keyword:
            return None
        if len(words) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header is `Bearer <token>`, one token.")
        token = words[1].decode(errors="replace")
        row = (ApiToken.objects.select_related("user").filter(digest=digest(token)).first())
        if row is None or not row.user.is_active:
            raise exceptions.AuthenticationFailed("This token is unknown or was revoked.")
        now = timezone.now()
        if row.last_used is None or now - row.last_used >= LAST_USE_PRECISION:
            ApiToken.objects.filter(pk=row.pk).update(last_used=now)
        return row.user, row

    def authenticate_header(self, request):
        return self.keyword


class HasScope(permissions.BasePermission):
    """What an endpoint needs: its view's `scope` for every method if it has one, else
    `read` for safe methods and its `write_scope` (`submit` unless said) for the others;
    views with `public_read` are open to visitors while results are public
    (website.public_results)."""

    message = "This token's scopes do not allow this."

    def has_permission(self, request, view):
        safe = request.method in permissions.SAFE_METHODS
        needed = getattr(view, "scope", None) or (
            ApiToken.Scope.READ if safe
            else getattr(view, "write_scope", ApiToken.Scope.SUBMIT))
        if not request.user.is_authenticated:
            return bool(safe and getattr(view, "public_read", False) and results_are_public()
                        and needed == ApiToken.Scope.READ)
        if needed == ApiToken.Scope.STAFF and not request.user.is_staff:
            self.message = "Only organisers may do this."
            return False
        # A session (request.auth None) may do all its user may.
        if isinstance(request.auth, ApiToken) and needed not in request.auth.scope_set:
            self.message = f"This token lacks the {needed} scope."
            return False
        return True
