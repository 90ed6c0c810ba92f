"""Queue webhook deliveries for the events the core makes true (docs/webhooks.md).

Called inside the transaction that applies a compilation result, a match
result or a tournament's end, so that an event is queued exactly when it
happened: a rolled-back result queues nothing. Each call costs one query when
no hook listens (the hooks that do, found through a subquery), and otherwise
one query for the events' data and one bulk insert. `stechec-manage
send_webhooks` (webhook_sender) sends what is queued.
"""

from django.db.models import Q
from django.utils import timezone

from stechec.contest.models import (
    BULK_SIZE,
    Champion,
    Match,
    MatchPlayer,
    Tournament,
    TournamentPlayer,
    Webhook,
    WebhookDelivery,
)

Event = Webhook.Event


def _hooks(event, *owners):
    """(id, owner id, contest-wide) of the active hooks listening to `event` whose owner is
    in one of `owners` (subqueries of user ids), or contest-wide (an organiser's)."""
    concerned = Q(contest_wide=True, owner__is_staff=True)
    for users in owners:
        concerned |= Q(owner__in=users)
    # `contains` on the space-separated names: no event name holds another.
    hooks = Webhook.objects.filter(concerned, active=True, events__contains=event)\
        .values_list("id", "owner_id", "contest_wide", "owner__is_staff")
    # A contest-wide hook of an owner no longer staff hears of the owner's events alone.
    return [(pk, owner, wide and staff) for pk, owner, wide, staff in hooks]


def _queue(event, hooks, payloads):
    """One delivery per hook and event: `payloads` is [(users concerned, payload)],
    contest-wide hooks hear of all."""
    created = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(webhook_id=hook_id, event=event, payload=payload, created=created,
                         next_try_at=created)
         for users, payload in payloads
         for hook_id, owner, contest_wide in hooks if contest_wide or owner in users],
        batch_size=BULK_SIZE)


def champions_compiled(champion_ids):
    """`champion.compiled` for champions whose compilation just ended (ready, error, or
    failed by the platform)."""
    hooks = _hooks(Event.CHAMPION_COMPILED,
                   Champion.objects.filter(pk__in=champion_ids).values("author_id"))
    if not hooks:
        return
    rows = Champion.objects.filter(pk__in=champion_ids).values_list(
        "id", "name", "status", "language", "author_id", "author__username")
    _queue(Event.CHAMPION_COMPILED, hooks, [
        ({author}, {"champion": {"id": pk, "name": name, "status": status,
                                 "language": language, "author": username}})
        for pk, name, status, language, author, username in rows])


def match_finished(match_id):
    """`match.finished` for a match just done or failed: to its author and its players'."""
    players = MatchPlayer.objects.filter(match_id=match_id)
    hooks = _hooks(Event.MATCH_FINISHED,
                   players.values("champion__author_id"),
                   Match.objects.filter(pk=match_id).values("author_id"))
    if not hooks:
        return
    match = Match.objects.filter(pk=match_id).values(
        "id", "status", "fault", "failure_reason", "tournament_id", "author_id").get()
    rows = list(players.order_by("id").values_list(
        "champion_id", "champion__name", "champion__author_id", "champion__author__username",
        "score", "nb_timeout"))
    payload = {"match": {
        "id": match["id"], "status": match["status"], "fault": match["fault"],
        "failure_reason": match["failure_reason"], "tournament": match["tournament_id"],
        "players": [{"champion": champion, "name": name, "author": username, "score": score,
                     "nb_timeout": nb_timeout}
                    for champion, name, _, username, score, nb_timeout in rows]}}
    _queue(Event.MATCH_FINISHED, hooks,
           [({row[2] for row in rows} | {match["author_id"]}, payload)])


# The places every subscriber of a tournament hears of; a player's hook also hears
# of their own champions' places, a contest-wide hook of everyone's.
PODIUM = 3


def tournament_finished(tournament_id):
    """`tournament.finished` for a tournament just closed with its ranks."""
    entries = TournamentPlayer.objects.filter(tournament_id=tournament_id)
    hooks = _hooks(Event.TOURNAMENT_FINISHED, entries.values("champion__author_id"))
    if not hooks:
        return
    tournament = Tournament.objects.filter(pk=tournament_id).values(
        "id", "name", "format").get()
    rows = [{"champion": champion, "name": name, "author": username, "author_id": author,
             "rank": rank, "points": score}
            for champion, name, author, username, rank, score in entries.order_by(
                "rank", "champion_id").values_list(
                "champion_id", "champion__name", "champion__author_id",
                "champion__author__username", "rank", "score")]

    def payload(places):
        return {"tournament": {**tournament, "nb_champions": len(rows), "standings": [
            {k: v for k, v in row.items() if k != "author_id"} for row in places]}}

    authors = {row["author_id"] for row in rows}
    _queue(Event.TOURNAMENT_FINISHED, [hook for hook in hooks if hook[2]],
           [(authors, payload(rows))])
    _queue(Event.TOURNAMENT_FINISHED, [hook for hook in hooks if not hook[2]], [
        ({author}, payload([row for row in rows
                            if row["rank"] <= PODIUM or row["author_id"] == author]))
        for author in authors])
