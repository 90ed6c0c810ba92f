"""Results applied per minute over the last minutes: status()'s `throughput`, the
status page's chart and its players' expected wait.

In memory, a few counters: a restarted master starts again from zero, which
the chart shows as it is.
"""

import collections
import time

from stechec.common.tasks import Kind

MINUTES = 15


class Throughput:
    def __init__(self):
        # Minute number (Unix time // 60) to {kind: results applied}.
        self._minutes = collections.OrderedDict()

    def applied(self, kind):
        minute = int(time.time() // 60)
        self._minutes.setdefault(minute, collections.Counter())[kind] += 1
        while next(iter(self._minutes)) <= minute - MINUTES:
            self._minutes.popitem(last=False)

    def recent(self):
        """{"minutes": MINUTES, kind: [results applied each minute, oldest first]}, the
        current minute (under way) last."""
        now = int(time.time() // 60)
        minutes = [self._minutes.get(m, {}) for m in range(now - MINUTES + 1, now + 1)]
        return {"minutes": MINUTES, **{kind.value: [m.get(kind, 0) for m in minutes]
                                       for kind in Kind}}
