"""What must hold after a chaos campaign, checked in the database, the match logs and on disk.

Every check returns a list of problems, one line each naming the task, so
that tools/chaos can print them and count them (docs/reliability.md says
what each count means).
"""

import collections
import os
import re

from stechec.common import paths
from stechec.common.tasks import MATCH_STATUSES, Status

# One player's YAML document in server.log, as the game server prints it.
SCORE = re.compile(r"^player: (\S+)\nscore: (-?\d+)\nnb_timeout: (\d+)$", re.MULTILINE)
FINAL_COMPILATION = (Status.READY, Status.ERROR)


def applied_results():
    """{(kind, id): [(attempt, status), ...]} for every final result the master applied, as
    it recorded them in the database (AppliedResult), in the order it applied them."""
    from stechec.contest.models import AppliedResult

    applied = collections.defaultdict(list)
    for kind, task_id, attempt, status in AppliedResult.objects.order_by("id").values_list(
            "kind", "task_id", "attempt", "status"):
        applied[kind, task_id].append((attempt, status))
    return applied


def log_scores(match_directory):
    """{matchplayer id: score} from the match's server.log, None when it has no server.log."""
    try:
        with open(os.path.join(match_directory, paths.SERVER_LOG), errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    return {int(player): int(score) for player, score, _ in SCORE.findall(text)
            if player.isdigit()}


def unfinished(matches, champions):
    """`stuck`: tasks still waiting or running once the stream has drained."""
    return ([f"match {m.id}: still {m.status} after {m.attempts} attempts" for m in matches
             if m.status not in MATCH_STATUSES]
            + [f"champion {c.id}: still {c.status} after {c.attempts} attempts"
               for c in champions if c.status in (Status.NEW, Status.PENDING)])


def lost(matches, champions, players, root, game):
    """`lost`: finished tasks whose result is not whole (no reason, outputs or scores missing,
    or scores other than the game server's)."""
    problems = []
    for match in matches:
        if match.status == Status.FAILED and not match.failure_reason:
            problems.append(f"match {match.id}: failed without a reason")
        # A failed match is the platform's fault, or cancelled by staff, and counts
        # nowhere (Match.fault).
        if match.status == Status.FAILED and (match.fault not in ("platform", "cancelled")
                                              or match.rated_seq is not None):
            problems.append(f"match {match.id}: failed, yet its fault is {match.fault!r} "
                            f"and its rating order {match.rated_seq}")
        if match.status != Status.DONE:
            continue
        directory = paths.published(paths.match_dir(root, game, match.id))
        scores = log_scores(directory)
        if scores is None:
            problems.append(f"match {match.id}: done but {directory} has no server.log")
            continue
        for player in players[match.id]:
            if scores.get(player.id) != player.score:
                problems.append(f"match {match.id}: player {player.id} scored {player.score} "
                                f"in the database, {scores.get(player.id)} in server.log")
            if not os.path.exists(os.path.join(directory, player.log_name())):
                problems.append(f"match {match.id}: no {player.log_name()}")
    for champion in champions:
        directory = paths.published(
            paths.champion_dir(root, game, champion.author.username, champion.id))
        if champion.status in FINAL_COMPILATION and \
                not os.path.exists(os.path.join(directory, paths.COMPILATION_LOG)):
            problems.append(f"champion {champion.id}: {champion.status} without compilation.log")
        if champion.status == Status.READY and \
                not os.path.exists(os.path.join(directory, paths.CHAMPION_COMPILED)):
            problems.append(f"champion {champion.id}: ready without its compiled archive")
        if champion.status == Status.FAILED and not champion.failure_reason:
            problems.append(f"champion {champion.id}: failed without a reason")
    return problems


def tournament_points(matches, players, root, game):
    """`lost` too: tournament standings from the database differ from those from the logs."""
    from stechec.contest.standings import MatchResult, compute

    champions = {p.champion_id for match_players in players.values() for p in match_players}
    from_database, from_logs = [], []
    for match in matches:
        if match.status not in MATCH_STATUSES or len(players[match.id]) < 2:
            continue
        failed = match.status == Status.FAILED
        seats = players[match.id]
        from_database.append(MatchResult(match.id, tuple((p.champion_id, p.score)
                                                         for p in seats), failed))
        scores = {} if failed else \
            (log_scores(paths.published(paths.match_dir(root, game, match.id))) or {})
        if not failed and any(p.id not in scores for p in seats):
            continue  # already counted by lost()
        from_logs.append(MatchResult(match.id, tuple((p.champion_id, scores.get(p.id))
                                                     for p in seats), failed))
    database_rows = {row.champion: row for row in compute(champions, from_database).rows}
    log_rows = {row.champion: row for row in compute(champions, from_logs).rows}
    return [f"champion {c}: {database_rows[c].points} tournament points from the database, "
            f"{log_rows[c].points} from the logs" for c in sorted(champions)
            if (database_rows[c].points, database_rows[c].score)
            != (log_rows[c].points, log_rows[c].score)]


def doubled(matches, champions, applied):
    """`doubled`: tasks whose final result the master applied more than once; and, so that
    a master recording nothing cannot pass, finished tasks with no applied result."""
    problems = []
    for match in matches:
        done = [attempt for attempt, status in applied.get(("match", match.id), [])
                if status == Status.DONE]
        if len(done) > 1 or (done and match.status != Status.DONE):
            problems.append(f"match {match.id}: done applied for attempts {done}, "
                            f"now {match.status}")
        elif match.status == Status.DONE and not done:
            problems.append(f"match {match.id}: done, but no applied result recorded")
    for champion in champions:
        final = [(attempt, status) for attempt, status in applied.get(("champion", champion.id),
                                                                      [])
                 if status in FINAL_COMPILATION]
        if len(final) > 1:
            problems.append(f"champion {champion.id}: final results applied {final}")
        elif champion.status in FINAL_COMPILATION and not final:
            problems.append(f"champion {champion.id}: {champion.status}, but no applied result "
                            "recorded")
    return problems


def partial_files(root):
    """`orphans` on disk: temporary names left in the shared directory (files, and the
    workers' attempt directories being written or removed)."""
    problems = []
    for directory, subdirectories, names in os.walk(root):
        for name in names:
            if ".tmp-" in name or name.startswith("."):
                problems.append(f"partial file {os.path.join(directory, name)}")
        for name in subdirectories:
            if name.startswith("."):
                problems.append(f"partial directory {os.path.join(directory, name)}")
    return problems


def orphan_processes(uid_ranges, work_directories):
    """`orphans` on the workers: processes left under a sandbox user id or in a work directory."""
    problems = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as f:
                uids = [int(u) for line in f if line.startswith("Uid:")
                        for u in line.split()[1:]]
            cwd = os.readlink(f"/proc/{pid}/cwd")
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if any(first <= uid < last for uid in uids for first, last in uid_ranges) or \
                any(cwd == d or cwd.startswith(d + "/") for d in work_directories):
            problems.append(f"orphan process {pid} (uids {uids[:2]}, in {cwd}): {command[:120]}")
    return problems
