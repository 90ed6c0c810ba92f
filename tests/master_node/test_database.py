"""The master's database greenlets: the order jobs run in."""

import gevent

from stechec.master_node.database import Database


def test_a_claim_overtakes_the_jobs_and_batches_waiting(db):
    database = Database(1)
    order = []

    def job(name, secs=0):
        gevent.sleep(secs)
        order.append(name)

    def batch(items):
        order.append(f"batch of {len(items)}")
        return [True] * len(items)

    running = gevent.spawn(database.call, job, "running", 0.1)
    gevent.sleep(0)
    waiting = [gevent.spawn(database.call, job, f"waiting {i}") for i in range(2)]
    gevent.sleep(0)
    results = [database.submit_batched(batch, i) for i in range(3)]
    gevent.sleep(0)
    claim = gevent.spawn(database.call, job, "claim", urgent=True)
    gevent.joinall([running, *waiting, claim], raise_error=True)
    assert [result.get(timeout=5) for result in results] == [True] * 3
    assert order == ["running", "claim", "waiting 0", "waiting 1", "batch of 3"]


def test_results_arriving_while_a_batch_runs_share_the_next_transaction(db):
    database = Database(4)
    batches = []

    def batch(items):
        batches.append(list(items))
        gevent.sleep(0.1)
        return items

    first = database.submit_batched(batch, 0)
    gevent.sleep(0.01)
    later = [database.submit_batched(batch, i) for i in range(1, 6)]
    gevent.sleep(0.01)
    last = database.submit_batched(batch, 6)
    assert [r.get(timeout=5) for r in [first, *later, last]] == list(range(7))
    assert batches == [[0], [1, 2, 3, 4, 5, 6]]
