"""The shared directory's layout: the original deployment's, outputs one directory per attempt.

Under `<contest.directory>/<game>/`:
  champions/<username>/<champion_id>/  champion.tgz (the upload)
      attempt-<n>/                     compilation.log, champion-compiled.tar.gz (the build)
  matches/<id // 1000 :03>/<id % 1000 :03>/
      attempt-<n>/                     server.log, log-champ-<matchplayer>-<champion>.log,
                                        dump.json.gz, replay
The site writes uploads; workers write everything else. A worker writes an
attempt's outputs elsewhere and renames them into `attempt-<n>` whole, before
it reports the result, so two attempts of a task (one of them stale, on a
worker the master had lost) never write the same file; readers take the
newest attempt there is (`published`), which is the applied one once the
task is finished.
"""

import os
import re

CHAMPION_SOURCES = "champion.tgz"
CHAMPION_COMPILED = "champion-compiled.tar.gz"
COMPILATION_LOG = "compilation.log"
SERVER_LOG = "server.log"
DUMP = "dump.json.gz"
REPLAY = "replay"
ATTEMPT_PREFIX = "attempt-"
_ATTEMPT = re.compile(re.escape(ATTEMPT_PREFIX) + r"([0-9]+)")


def game_dir(root, game):
    return os.path.join(root, game)


def champion_dir(root, game, username, champion_id):
    return os.path.join(root, game, "champions", username, str(champion_id))


def match_dir(root, game, match_id):
    return os.path.join(root, game, "matches", f"{match_id // 1000:03}", f"{match_id % 1000:03}")


def player_log_name(matchplayer_id, champion_id):
    return f"log-champ-{matchplayer_id}-{champion_id}.log"


def attempt_dir(task_dir, attempt):
    return os.path.join(task_dir, f"{ATTEMPT_PREFIX}{attempt}")


def published(task_dir):
    """Where a task's outputs are: its newest `attempt-<n>`, else `task_dir` itself.

    `task_dir` itself holds them in a shared directory written before outputs
    went by attempt (the original layout); when nothing is published, the
    files asked for there are simply missing.
    """
    try:
        names = os.listdir(task_dir)
    except (FileNotFoundError, NotADirectoryError):
        return task_dir
    attempts = [int(found.group(1)) for found in map(_ATTEMPT.fullmatch, names) if found]
    return attempt_dir(task_dir, max(attempts)) if attempts else task_dir
