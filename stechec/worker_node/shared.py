"""Whether the shared directory is really there, or an empty mount point.

A share that is not mounted (the worker started before the NFS mount, or the
mount went away) leaves `contest.directory` an empty local directory: every
task would fail in milliseconds, for the platform's reasons, and use up its
tries. So the worker takes tasks only while `contest.directory` holds the
game's directory, `<contest.directory>/<contest.game>/`, which the site
creates when it starts (stechec.www.contest.health) and where it writes every
upload. It looks at start, before each heartbeat, and again before a task
while it found it missing; the heartbeat tells the master why the worker
takes no task, and the master places nothing there meanwhile.
"""

import logging
import os

from stechec.common import paths
from stechec.worker_node.workspace import off_hub

logger = logging.getLogger(__name__)


class SharedDirectory:
    def __init__(self, contest):
        self.directory = contest["directory"]
        self.game = contest["game"]
        self.game_dir = paths.game_dir(self.directory, self.game)
        # Why the worker takes no task, None while the share is there.
        self.problem = None
        self._checked = False

    def check(self):
        """Look again (off the hub: a stat on an NFS server that went away may hang); the
        problem, or None. A change is logged."""
        present = off_hub(os.path.isdir, self.game_dir)
        problem = None if present else (
            f"the shared directory {self.directory} has no {self.game}/ directory: is the "
            "share mounted? (the site creates it when it starts)")
        if problem != self.problem or not self._checked:
            if problem is not None:
                logger.warning("taking no task: %s", problem)
            elif self._checked:
                logger.info("the shared directory %s is back: taking tasks again",
                               self.directory)
        self.problem = problem
        self._checked = True
        return problem

    def ready(self):
        """Whether a task may start: at once while the share was there at the last look,
        else after another look."""
        return self.problem is None or self.check() is None
