"""The master's database greenlets: the order jobs run in."""

import gevent
import gevent.event

from stechec.master_node.database import Database


def test_a_claim_overtakes_the_jobs_and_batches_waiting(db):
    database = Database(1)
    order = []
    started, release = gevent.event.Event(), gevent.event.Event()

    def job(name):
        order.append(name)

    def batch(items):
        order.append(f"batch of {len(items)}")
        return [True] * len(items)

    def running():
        started.set()
        release.wait()
        order.append("running")

    first = gevent.spawn(database.call, running)
    assert started.wait(timeout=30)
    # Spawned greenlets run in the order they were spawned, at the next switch: these
    # jobs queue up before the batch below.
    waiting = [gevent.spawn(database.call, job, f"waiting {i}") for i in range(2)]
    gevent.sleep(0)
    results = [database.submit_batched(batch, i) for i in range(3)]
    claim = gevent.spawn(database.call, job, "claim", urgent=True)
    gevent.sleep(0)
    release.set()
    gevent.joinall([first, *waiting, claim], raise_error=True)
    assert [result.get(timeout=5) for result in results] == [True] * 3
    assert order == ["running", "claim", "waiting 0", "waiting 1", "batch of 3"]


def test_results_arriving_while_a_batch_runs_share_the_next_transaction(db):
    database = Database(4)
    batches = []
    started, release = gevent.event.Event(), gevent.event.Event()

    def batch(items):
        batches.append(list(items))
        if not started.is_set():
            started.set()
            release.wait()
        return items

    first = database.submit_batched(batch, 0)
    assert started.wait(timeout=30)
    later = [database.submit_batched(batch, i) for i in range(1, 6)]
    # The idle database greenlets get their turn: none may take the waiting batch.
    gevent.sleep(0)
    last = database.submit_batched(batch, 6)
    release.set()
    assert [r.get(timeout=5) for r in [first, *later, last]] == list(range(7))
    assert batches == [[0], [1, 2, 3, 4, 5, 6]]
