"""An attempt's outputs in the shared directory: published whole, before its result.

A job writes its outputs (compilation log and build; a match's logs, dump and
replay) into `.attempt-<n>.staging` in the task's directory, then renames
that to `attempt-<n>` before its result goes to the master. Readers (the
site, a match unpacking a compiled champion) take the newest `attempt-<n>`
(stechec.common.paths.published), so a crash at any point leaves the old
outputs or the new ones, whole, and a stale attempt (still running on a
worker the master had lost) writes only a directory of its own: it never
replaces the files of the attempt the master applied, which is newer.

The master's answer settles them: applied, the older attempts' directories
go (stale or superseded) when this attempt published outputs to take their
place; dropped or refused, this attempt's goes. Outputs whose result could
not be delivered stay: the master may have applied it, and the task's next
applied attempt removes them if not.
"""

import logging
import os
import re
import shutil
import uuid

from stechec.common import paths
from stechec.common.tasks import Outcome

logger = logging.getLogger(__name__)

# A task directory's entries that belong to an attempt: published, staging, being removed.
_ENTRY = re.compile(r"\.?" + re.escape(paths.ATTEMPT_PREFIX)
                    + r"([0-9]+)(\.staging|\.trash-[0-9a-f]+)?")


class AttemptOutputs:
    def __init__(self, task_dir, attempt):
        self.task_dir = task_dir
        self.attempt = attempt
        self.staging = os.path.join(task_dir, f".{paths.ATTEMPT_PREFIX}{attempt}.staging")
        self.published = paths.attempt_dir(task_dir, attempt)

    def start(self):
        """Make the empty staging directory and return it."""
        os.makedirs(self.task_dir, exist_ok=True)
        os.mkdir(self.staging)
        return self.staging

    def publish(self):
        os.rename(self.staging, self.published)

    def settle(self, answer):
        """Act on the master's answer (a tasks.Answer) to this attempt's result."""
        if answer.outcome is Outcome.APPLIED:
            if os.path.isdir(self.published):
                self.prune_older()
        elif answer.outcome is not Outcome.UNDELIVERED:
            self.discard()

    def discard(self):
        """Remove this attempt's outputs, published or not."""
        for path in (self.staging, self.published):
            _remove(path)

    def prune_older(self):
        """Remove what older attempts left: this one is applied, they are stale or superseded."""
        try:
            names = os.listdir(self.task_dir)
        except FileNotFoundError:
            return
        for name in names:
            found = _ENTRY.fullmatch(name)
            if found and int(found.group(1)) < self.attempt:
                _remove(os.path.join(self.task_dir, name))


def _remove(path):
    name = os.path.basename(path)
    if not name.startswith("."):
        # Out of readers' sight in one step, then removed at leisure.
        hidden = os.path.join(os.path.dirname(path), f".{name}.trash-{uuid.uuid4().hex[:12]}")
        try:
            os.rename(path, hidden)
        except FileNotFoundError:
            return
        path = hidden
    # Another worker may be removing the same directory (an older attempt's, pruned by the
    # applied one while its own worker discards it): whatever is gone is gone.
    shutil.rmtree(path, ignore_errors=True)
    if os.path.lexists(path):
        logger.warning("could not remove all of %s", path)
