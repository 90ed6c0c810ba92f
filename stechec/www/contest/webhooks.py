"""Players' webhooks, as the account page and the API make and list them (docs/webhooks.md).

The core queues their deliveries (stechec.contest.webhook_events) and
`stechec-manage send_webhooks` sends them.
"""

import secrets
import urllib.parse

from django.utils.translation import gettext as _

from stechec.contest.models import Webhook, WebhookDelivery

# Hooks per account: each event is sent to every one of them.
MAX_WEBHOOKS = 10
# The deliveries the account page shows.
RECENT_DELIVERIES = 20
EVENTS = [event.value for event in Webhook.Event]


class BadWebhook(ValueError):
    """A webhook that cannot be registered; the message is for the user."""


def check_url(url):
    """`url`, when it is an http:// or https:// URL with a host; raise BadWebhook."""
    try:
        parts = urllib.parse.urlsplit(url)
        # .port raises ValueError for a port that is no number or out of range.
        ok = (parts.scheme in ("http", "https") and bool(parts.hostname)
              and parts.port != 0 and not any(c.isspace() or not c.isprintable() for c in url))
    except ValueError:
        ok = False
    if not ok:
        raise BadWebhook(_("A webhook's URL is an http:// or https:// address with a host, "
                           "such as https://example.org/hook; got %(url)r.") % {"url": url})
    return url


def create(user, url, events, *, discord=False, contest_wide=False):
    """A new webhook of `user`'s: (Webhook, its secret, shown this once)."""
    url = check_url(url.strip())
    events = sorted(set(events))
    unknown = [event for event in events if event not in EVENTS]
    if unknown or not events:
        raise BadWebhook(_("A webhook's events are some of %(events)s; got %(got)s.")
                         % {"events": ", ".join(EVENTS), "got": ", ".join(events) or "none"})
    if contest_wide and not user.is_staff:
        raise BadWebhook(_("Only organisers may have a contest-wide webhook."))
    if Webhook.objects.filter(owner=user).count() >= MAX_WEBHOOKS:
        raise BadWebhook(_("An account has at most %(max)s webhooks: delete one first.")
                         % {"max": MAX_WEBHOOKS})
    secret = secrets.token_hex(32)
    hook = Webhook.objects.create(owner=user, url=url, secret=secret, events=" ".join(events),
                                  discord=discord, contest_wide=contest_wide)
    return hook, secret


def delete(user, pk):
    """Delete `user`'s webhook `pk` and its deliveries; whether there was one."""
    deleted, _ = Webhook.objects.filter(owner=user, pk=pk).delete()
    return bool(deleted)


def of(user):
    return Webhook.objects.filter(owner=user)


def recent_deliveries(user, hook=None):
    """The latest deliveries to `user`'s webhooks (to `hook` if given), newest first."""
    deliveries = WebhookDelivery.objects.filter(webhook__owner=user).select_related("webhook")
    if hook is not None:
        deliveries = deliveries.filter(webhook_id=hook)
    return deliveries[:RECENT_DELIVERIES]
