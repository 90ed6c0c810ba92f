"""Staff cancel a running match on a real cluster (a real master and a real worker): its
programs are killed, it ends cancelled, and the worker goes on serving."""

from django.contrib.auth.models import User
from django.db import transaction

from stechec.contest import operations
from stechec.contest.models import Champion, Match
from tests.worker_node.conftest import C_CHAMPION, SLEEPY_CHAMPION, wait_for


def _compiled(worker, author, files):
    with transaction.atomic():
        champion = Champion.queue_for_compilation(name="champion", author=author)
        worker.upload(author.username, champion.id, files)
    wait_for(lambda: Champion.objects.get(pk=champion.pk).status == "ready",
             "the champion to compile")
    return champion


def test_cancel_kills_a_running_match_and_the_worker_serves_on(cluster):
    master, relay, worker = cluster()
    carol = User.objects.create_user("carol")
    sleepy = _compiled(worker, carol, {"champion.py": SLEEPY_CHAMPION})
    match = Match.launch([sleepy, sleepy], author=carol)
    wait_for(lambda: len(worker.sandbox_processes() or worker.processes_in_work_dir()) >= 3,
             "the match's programs to run")
    assert Match.objects.get(pk=match.pk).status == "pending"

    operations.cancel_match("staff", match.id)
    worker.wait_idle()
    assert f"match {match.id} attempt 1: cancelled by the master" in worker.log()
    assert f"match {match.id} attempt 1: cancelled by staff; stopping it on" in master.logs()
    match.refresh_from_db()
    assert (match.status, match.fault) == ("failed", "cancelled")
    assert match.failure_reason.startswith("cancelled by staff at ")
    assert not relay.calls_of("match_done") and not [
        r for _, results in relay.calls_of("task_results") for r in results
        if r["kind"] == "match"]

    # The worker takes the next task.
    _compiled(worker, carol, {"prologin.c": C_CHAMPION})
    worker.wait_idle()
