"""Sandbox user ids for a local cluster's workers, apart from every other worker's here.

As root, a worker node runs its programs as the `available_slots` user ids
from its `sandbox.first_uid`, and refuses to start if another worker-node on
the machine holds one of them (stechec.worker_node.sandbox: a lock file per
id, held while the worker lives). A local cluster picks its workers' ranges
before they start, skipping ids a worker holds, ids an account has, and ids
another local cluster picked: it holds a lock file of its own per id it
picks (`<uid>.picked`, beside the workers') until it releases them, so that
two clusters started at once, or one beside the test suite, never collide.
"""

import os
import pwd

from stechec.worker_node.sandbox import lock_uid_file, uid_claimed

# Where the search gives up: user ids are 32-bit, and some tools read them signed.
MAX_UID = 2**31 - 1


class SandboxUids:
    """`count` ranges of `size` user ids from `first_uid` on, `stride` apart, taken ones skipped.

    `firsts` is each range's first id. Only root's workers take ids, so
    anyone else gets the first ranges, without looking.
    """

    def __init__(self, count, size, first_uid, stride):
        self.firsts = []
        self._locks = []
        if os.geteuid() != 0:
            self.firsts = [first_uid + index * stride for index in range(count)]
            return
        candidates = iter(range(first_uid, MAX_UID - size, stride))
        while len(self.firsts) < count:
            first = next(candidates, None)
            if first is None:
                self.release()
                raise RuntimeError(f"no {count} free ranges of {size} sandbox user ids from "
                                   f"{first_uid} on")
            locks = _pick(range(first, first + size))
            if locks is not None:
                self.firsts.append(first)
                self._locks.extend(locks)

    def release(self):
        """Let other clusters pick them (its workers, once started, hold their own)."""
        for descriptor in self._locks:
            os.close(descriptor)
        self._locks = []


def _pick(uids):
    """Lock descriptors holding `uids` as picked, or None if one of them is not free."""
    locks = []
    for uid in uids:
        # Picked first, then checked: a cluster that checked first could pick an
        # id another picks at the same moment.
        lock = lock_uid_file(f"{uid}.picked")
        if lock is not None:
            locks.append(lock)
        if lock is None or uid_claimed(uid) or _has_account(uid):
            for descriptor in locks:
                os.close(descriptor)
            return None
    return locks


def _has_account(uid):
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True
