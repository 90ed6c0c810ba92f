"""`worker-node --check CHAMPION.tgz`: does this worker's configuration run the game?

With the worker's configuration (its game programs, rules, player
environment, compile script, limits and sandbox), the check compiles the
given champion archive (as `make tar` makes it) and plays one match of it
against itself, through the very code the daemon runs for the master's
tasks, then prints the verdicts: the compilation's outcome, each player's
score, timeouts and exit status, and the reason when something failed. It
exits 0 when the champion compiled and every player played the match to
its end (a score, no timeout, exit status 0), 1 otherwise, saying why on
its last line.

It needs neither the master nor the shared directory: the champion and the
match live in a private directory of their own (under the system's
temporary directory), which holds the contest directory and the work
directory; it is removed on success, and kept, and named, on failure. As
root, it takes the configured sandbox user ids, so it refuses to run beside
a worker-node that holds them.
"""

import os
import shutil
import tempfile

from stechec.common import paths
from stechec.worker_node import compilation, matches
from stechec.worker_node.outputs import AttemptOutputs
from stechec.worker_node.slots import Task

PROGRAM = "worker-node --check"
USER = "check"
CHAMPION_ID = 1
MATCH_ID = 1
# How much of a log a failure shows.
LOG_LINES = 15


class CheckDirectory:
    """The check's private directory: its contest directory and its work directory."""

    def __init__(self):
        # Short, under the system's temporary directory: the match's unix socket paths
        # go under the work directory.
        self.root = tempfile.mkdtemp(prefix="stechec-check-")
        # Sandboxed programs (other user ids) go through it to their own directories.
        os.chmod(self.root, 0o711)
        self.contest = os.path.join(self.root, "shared")
        self.work = os.path.join(self.root, "work")
        os.mkdir(self.contest)

    def use_in(self, config):
        """Point `config` at this directory rather than the shared and work directories."""
        config["contest"]["directory"] = self.contest
        config["paths"]["work_directory"] = self.work
        os.mkdir(paths.game_dir(self.contest, config["contest"]["game"]))

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


def say(line=""):
    print(line, flush=True)


def say_log(data):
    """Print the last LOG_LINES lines of a log (bytes), readable, indented."""
    for line in data.decode("utf-8", errors="replace").splitlines()[-LOG_LINES:]:
        say(f"    | {matches.last_line(line.encode())}".rstrip())


def run(workspace, directory, archive, *, players=2, map_path=None):
    """Compile `archive` and play it against itself (`players` seats); the exit status."""
    contest = workspace.config["contest"]
    champion_dir = paths.champion_dir(contest["directory"], contest["game"], USER, CHAMPION_ID)
    os.makedirs(champion_dir)
    shutil.copyfile(archive, os.path.join(champion_dir, paths.CHAMPION_SOURCES))
    say(f"{PROGRAM}: {contest['game']}, server {workspace.config['paths']['stechec_server']}, "
        f"player environment {workspace.config['paths']['player_env']}")

    compiled = compilation.compile_champion(
        workspace, Task("compile", CHAMPION_ID, 1, 1), USER,
        AttemptOutputs(champion_dir, 1))
    language = f" ({compiled['language']})" if compiled["language"] else ""
    say(f"compilation{language}: {compiled['status']}"
        + (f": {compiled['reason']}" if compiled["reason"] else ""))
    if compiled["status"] != "ready":
        say_log(compiled["log"])
        return failed(directory, f"the champion did not compile: {compiled['reason']}")

    spec = {"match_id": MATCH_ID, "attempt": 1, "slots": 1 + players, "options": "",
            "map": _read_map(map_path),
            "players": [{"matchplayer_id": seat + 1, "champion_id": CHAMPION_ID, "user": USER}
                        for seat in range(players)]}
    result = matches.run_match(
        workspace, Task("match", MATCH_ID, 1, 1 + players), spec,
        AttemptOutputs(paths.match_dir(contest["directory"], contest["game"], MATCH_ID), 1))
    say(f"match: {result['status']}" + (f": {result['reason']}" if result["reason"] else ""))
    problems = [result["reason"]] if result["reason"] else []
    for player in result["players"]:
        say(f"  player {player['matchplayer_id']}: score {player['score']}, "
            f"{player['nb_timeout']} timeouts, exit status {player['exit_status']}")
        if player["score"] is None or player["nb_timeout"] or player["exit_status"] != 0:
            problems.append(f"player {player['matchplayer_id']} did not play to the end "
                            f"(exit status {player['exit_status']}, {player['nb_timeout']} "
                            "timeouts)")
            say_log(player["log"])
    if problems:
        say("  server log:")
        say_log(result["server_log"])
        return failed(directory, "; ".join(problems))
    directory.remove()
    say(f"{PROGRAM}: OK: the champion compiled and played a whole match against itself")
    return 0


def failed(directory, why):
    say(f"{PROGRAM}: FAILED: {why} (logs kept in {directory.root})")
    return 1


def _read_map(map_path):
    if map_path is None:
        return None
    with open(map_path, encoding="utf-8") as f:
        return f.read()
