"""Finishing matches in tests the way the master does: `transitions.apply_results` in a
transaction."""

from django.db import transaction

from stechec.common import tasks
from stechec.common.tasks import Kind
from stechec.contest import transitions
from stechec.contest.models import Match


def finish(match, scores=None, *, failed=False):
    """Apply a worker's result to `match` (scores in seat order) through the master's code."""
    Match.objects.filter(pk=match.pk, status__in=["new", "failed", "done"])\
        .update(status="pending", attempts=1)
    players = list(match.players.order_by("id"))
    if failed:
        result = {"status": "failed", "retryable": False, "reason": "the server crashed",
                  "players": []}
    else:
        result = {"status": "done", "retryable": False, "reason": "", "players": [
            {"matchplayer_id": p.id, "score": score, "nb_timeout": 0, "exit_status": 0}
            for p, score in zip(players, scores, strict=True)]}
    with transaction.atomic():
        assert transitions.apply_results([(Kind.MATCH, match.pk, 1, result)],
                                         max_tries=3) == [tasks.APPLIED]
