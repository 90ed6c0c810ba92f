"""The record of final results applied (AppliedResult): one statement per batch of results."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stechec.common import tasks
from stechec.common.tasks import Kind
from stechec.contest import transitions
from stechec.contest.models import AppliedResult, Champion, Match, MatchPlayer

pytestmark = pytest.mark.django_db


def _pending_match(champions):
    match = Match.objects.create(status="pending", attempts=1)
    outcomes = [{"matchplayer_id": MatchPlayer.objects.create(match=match, champion=c).id,
                 "score": 1, "nb_timeout": 0, "exit_status": 0} for c in champions]
    return match, outcomes


def _recorded():
    return list(AppliedResult.objects.values_list("kind", "task_id", "attempt", "status"))


def test_a_batch_of_results_is_recorded_in_one_statement_in_the_order_applied():
    user = User.objects.create_user("alice")
    champions = [Champion.objects.create(author=user, name=f"c{i}", status="pending",
                                         attempts=2) for i in range(4)]
    match, outcomes = _pending_match(champions[:2])
    results = [{"status": "ready", "language": "c"}, {"status": "ready", "language": "python"},
               {"status": "error", "language": "c"},
               # Given back to the queue: no final result, no record.
               {"status": "failed", "reason": "share lost"}]
    before = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        answers = transitions.apply_results(
            [(Kind.MATCH, match.id, 1, {"status": "done", "players": outcomes})]
            + [(Kind.COMPILE, c.id, 2, r) for c, r in zip(champions, results, strict=True)]
            # A stale attempt: dropped, not recorded.
            + [(Kind.COMPILE, champions[0].id, 1, results[0])],
            max_tries=3)
    assert answers == [tasks.APPLIED] * 5 + [tasks.DROPPED]
    inserts = [q["sql"] for q in queries.captured_queries if "stechec_appliedresult" in q["sql"]]
    assert len(inserts) == 1
    # Compilations are applied first (apply_results), each outcome's group in turn.
    assert _recorded() == [("champion", champions[0].id, 2, "ready"),
                           ("champion", champions[1].id, 2, "ready"),
                           ("champion", champions[2].id, 2, "error"),
                           ("match", match.id, 1, "done")]
    times = set(AppliedResult.objects.values_list("applied_at", flat=True))
    assert len(times) == 1
    assert before <= times.pop() <= timezone.now()
    assert Champion.objects.get(pk=champions[3].id).status == Champion.Status.NEW


def test_a_match_result_applied_alone_records_itself():
    user = User.objects.create_user("bob")
    champions = [Champion.objects.create(author=user, name=f"c{i}", status="ready")
                 for i in range(2)]
    match, outcomes = _pending_match(champions)
    assert transitions.apply_match_result(match.id, 1, {"status": "done", "players": outcomes},
                                          max_tries=3)
    assert _recorded() == [("match", match.id, 1, "done")]


def test_a_batch_with_no_final_result_writes_nothing():
    user = User.objects.create_user("carol")
    champion = Champion.objects.create(author=user, name="c", status="pending", attempts=1)
    with CaptureQueriesContext(connection) as queries:
        answers = transitions.apply_results(
            [(Kind.COMPILE, champion.id, 1, {"status": "failed", "reason": "share lost"})],
            max_tries=3)
    assert answers == [tasks.APPLIED]
    assert not [q for q in queries.captured_queries if "stechec_appliedresult" in q["sql"]]
    assert _recorded() == []
