"""Running a match: one game server and one client per player, on this worker.

The match gets a private directory: one subdirectory per player with its
compiled champion unpacked, one for the `ipc://` sockets, and the server's
own files (map, dump, replay). The server starts first; the clients start
once its socket exists, with client ids 0 to players - 1 (stechec2 refuses
any other and waits on). Each program runs in the sandbox, a champion's
client able to write only in its own directory and the sockets'. When the
server has finished, the clients get `match.client_grace_secs` to leave,
then are killed. Scores come from the YAML documents the server prints; the
logs, the gzipped dump and the replay are published together as the
attempt's outputs in the match's shared directory (stechec.worker_node.outputs),
for every match that ran or failed, `server.log` always among them.
"""

import gzip
import io
import logging
import os
import re
import shutil
import zlib
from typing import NamedTuple

import gevent
import yaml

from stechec.common import archive, paths, verdicts
from stechec.common.tasks import MatchResult, MatchResultPlayer, Status
from stechec.worker_node.compilation import tail
from stechec.worker_node.sandbox import Guard, KillReason
from stechec.worker_node.workspace import ARCHIVE_BYTES, off_hub

logger = logging.getLogger(__name__)

SERVER_SOCKET = "rep"
PUBLISH_SOCKET = "pub"
SERVER_DIR = "server"
SOCKETS_DIR = "sockets"
MAP_FILE = "map"
# What a failure's reason quotes of a program's log: its last line, this long at most.
EXCERPT_CHARS = 300
# ANSI escape sequences (stechec2 colours its log tags) and other control characters.
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b.?|[\x00-\x08\x0b-\x1f\x7f]")
# Bounds on a compiled champion's archive (the worker's own output, but read
# back from the shared directory): well above what a compilation produces.
COMPILED_MAX_MEMBERS = 100_000
COMPILED_MAX_BYTES = 4 * 2**30


class MatchSetupError(Exception):
    """The match could not start for the platform's reasons (retryable)."""


def run_match(workspace, task, spec, outputs):
    """Run match `task.id` described by `spec` (the run_match task); return match_done's result.

    `outputs` (AttemptOutputs) is where the logs, dump and replay are published.
    Returns None when the task was cancelled (nothing is published then).
    """
    with workspace.private_dir(f"match-{task.id}") as work:
        try:
            players = _prepare(workspace, task, spec, work)
        except MatchSetupError as e:
            server_log = f"stechec worker: the match could not start: {e}\n".encode()
            off_hub(_publish, outputs, {paths.SERVER_LOG: server_log})
            return failed_result(spec, str(e), retryable=True, server_log=server_log)
        # One guard for the match's programs: the server, then a client per player.
        guard = Guard([True] + [False] * len(players))
        try:
            return _play(workspace, task, spec, work, players, outputs, guard)
        finally:
            guard.close()


class _Player:
    def __init__(self, seat, entry, directory):
        self.seat = seat
        self.matchplayer_id = entry["matchplayer_id"]
        self.champion_id = entry["champion_id"]
        self.user = entry["user"]
        self.directory = directory
        self.log_name = paths.player_log_name(self.matchplayer_id, self.champion_id)
        self.run = None
        self.outcome = None


def _prepare(workspace, task, spec, work):
    contest = workspace.config["contest"]
    for name in (SERVER_DIR, SOCKETS_DIR):
        os.mkdir(os.path.join(work, name))
    # The server and the clients share the sockets' directory through their group.
    os.chmod(os.path.join(work, SOCKETS_DIR), 0o770)
    players = []
    for seat, entry in enumerate(spec["players"]):
        directory = os.path.join(work, f"player-{entry['matchplayer_id']}")
        os.mkdir(directory)
        os.chmod(directory, 0o700)
        champion = paths.champion_dir(contest["directory"], contest["game"], entry["user"],
                                      entry["champion_id"])
        try:
            key, tar = off_hub(_unpack, champion, directory, workspace.archives.get)
        except (OSError, EOFError, zlib.error, archive.ArchiveError) as e:
            # The path is for the operator; the reason reaches the match's page.
            logger.warning("%s: champion %d: cannot unpack its compiled archive in %s: %s",
                           task, entry["champion_id"], champion, e)
            why = e.strerror if isinstance(e, OSError) and e.strerror else type(e).__name__
            raise MatchSetupError(f"champion {entry['champion_id']}: cannot unpack its "
                                  f"compiled archive ({why})") from None
        workspace.archives.keep(key, tar)
        players.append(_Player(seat, entry, directory))
    if spec["map"] is not None:
        with open(os.path.join(work, MAP_FILE), "w", encoding="utf-8") as f:
            f.write(spec["map"])
    return players


def _unpack(champion, directory, cached):
    """Unpack the compiled archive of `champion`'s published attempt (the shared
    directory is read here, off the hub); its key and its decompressed bytes
    (None when too big to keep) for `cached`, which gives them back by key.

    The key is the file's path and identity: a rebuilt champion's archive is
    another file, in its attempt's directory.
    """
    compiled = os.path.join(paths.published(champion), paths.CHAMPION_COMPILED)
    with open(compiled, "rb") as f:
        stat = os.fstat(f.fileno())
        key = (compiled, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        tar = cached(key)
        if tar is None:
            tar = gzip.GzipFile(fileobj=f).read(ARCHIVE_BYTES + 1)
            if len(tar) > ARCHIVE_BYTES:
                f.seek(0)
                _extract(f, "r:gz", directory)
                return key, None
    _extract(io.BytesIO(tar), "r:", directory)
    return key, tar


def _extract(fileobj, mode, directory):
    archive.extract(fileobj, directory, mode=mode, links=True, set_id_bits=True,
                    max_members=COMPILED_MAX_MEMBERS, max_unpacked_bytes=COMPILED_MAX_BYTES)


def _play(workspace, task, spec, work, players, outputs, guard):
    config = workspace.config
    cfg_paths, match_cfg, limits = config["paths"], config["match"], config["limits"]
    sockets = os.path.join(work, SOCKETS_DIR)
    server_dir = os.path.join(work, SERVER_DIR)
    rep_addr = f"ipc://{os.path.join(sockets, SERVER_SOCKET)}"
    pub_addr = f"ipc://{os.path.join(sockets, PUBLISH_SOCKET)}"
    common = ["--rules", cfg_paths["rules"]]
    readable = []
    if spec["map"] is not None:
        readable.append(os.path.join(work, MAP_FILE))
        common += ["--map", readable[0]]
    timing = ["--time", str(match_cfg["time_ms"]), "--verbose", str(match_cfg["verbose"])]
    dump = os.path.join(server_dir, "dump.json")
    replay = os.path.join(server_dir, "replay")
    server_argv = [cfg_paths["stechec_server"], *common, "--rep_addr", rep_addr,
                   "--pub_addr", pub_addr, "--nb_clients", str(len(players)), *timing,
                   "--replay", replay]
    if match_cfg["dump"]:
        server_argv += ["--dump", dump]
    server_log = os.path.join(work, paths.SERVER_LOG)
    server = workspace.start(task, server_argv, writable=[server_dir, sockets],
                             owned=[server_dir, sockets], readable=readable, cwd=server_dir,
                             limits=limits["server"], log_path=server_log,
                             env=workspace.environment(server_dir), capture_stdout=True,
                             guard=guard)
    logger.info("%s: server started (guard pid %d)", task, guard.pid)
    if not _wait_for_socket(server, os.path.join(sockets, SERVER_SOCKET),
                            match_cfg["server_start_secs"]):
        exited = server.proc.poll() is not None
        server.kill(KillReason.WALL)
        outcome = workspace.finish(task, server)
        if task.cancelled:
            return None
        if exited:
            reason = _program_failure("the game server", outcome, _read(server_log))
        else:
            reason = (f"the game server did not open its socket within "
                      f"{match_cfg['server_start_secs']:g} s")
        _append(server_log, f"\nstechec worker: {reason}\n")
        logs = off_hub(_publish_match, outputs, work, players)
        result = failed_result(spec, reason, retryable=True, server_exit=outcome.exit_status,
                               server_log=logs[paths.SERVER_LOG])
        result["server_verdict"] = outcome.verdict
        return result
    for player in players:
        champion = os.path.join(player.directory, cfg_paths["champion_artifact"])
        argv = [cfg_paths["stechec_client"], "--name", str(player.matchplayer_id), *common,
                "--champion", champion, "--req_addr", rep_addr, "--sub_addr", pub_addr,
                "--client_id", str(player.seat), *timing]
        player.run = workspace.start(
            task, argv, writable=[player.directory, sockets], owned=[player.directory],
            readable=readable, cwd=player.directory,
            limits=limits["client"], log_path=os.path.join(work, player.log_name),
            env=workspace.environment(player.directory,
                                      {"CHAMPION_PATH": player.directory}), guard=guard)
    waiters = [gevent.spawn(workspace.finish, task, p.run) for p in players]
    server_outcome = workspace.finish(task, server)
    gevent.joinall(waiters, timeout=match_cfg["client_grace_secs"])
    for player in players:
        player.run.kill(KillReason.AFTER_SERVER)
    gevent.joinall(waiters)
    for player, waiter in zip(players, waiters, strict=True):
        player.outcome = waiter.value
    if task.cancelled:
        return None
    return _report(spec, work, players, server_outcome, outputs, dumped=match_cfg["dump"],
                   turn_ms=match_cfg["time_ms"])


def _wait_for_socket(server, path, timeout):
    with gevent.Timeout(timeout, False):
        while not os.path.exists(path):
            if server.proc.poll() is not None:
                return False
            gevent.sleep(0.02)
        return True
    return False


def _report(spec, work, players, server_outcome, outputs, *, dumped, turn_ms):
    server_log_path = os.path.join(work, paths.SERVER_LOG)
    server_stderr = _read(server_log_path)
    if server_outcome.stdout:
        _append(server_log_path, b"\n--- server output ---\n" + server_outcome.stdout)
    if not server_outcome.ok:
        _append(server_log_path, f"\nstechec worker: game server: {server_outcome.reason}\n")
    for player in players:
        if not player.outcome.ok:
            _append(os.path.join(work, player.log_name),
                    f"\nstechec worker: champion process: {player.outcome.reason}\n")
    try:
        scores = parse_scores(server_outcome.stdout)
    except ValueError as e:
        scores, problem = {}, f"unreadable server output: {e}"
    else:
        problem = ""
    if server_outcome.killed_for is KillReason.WALL:
        problem = f"the game did not finish: the game server was {server_outcome.reason}"
    elif not server_outcome.ok and dumped and b"dump_state" in server_stderr:
        problem = ("the game server aborted because this game cannot write a dump (--dump): "
                   "set match.dump to false in the worker's configuration")
    elif not server_outcome.ok:
        problem = _program_failure("the game server", server_outcome, server_stderr)
    else:
        missing = [p.matchplayer_id for p in players if str(p.matchplayer_id) not in scores]
        if missing and not problem:
            problem = "the game server reported no score for player(s) " + \
                ", ".join(map(str, missing))
    logs = off_hub(_publish_match, outputs, work, players)
    result = MatchResult(
        status=Status.FAILED if problem else Status.DONE,
        reason=problem,
        # The game server's failures are the platform's: the match is retried.
        retryable=bool(problem),
        server_exit=server_outcome.exit_status,
        server_log=tail(logs[paths.SERVER_LOG]),
        # How each program ended (stechec.common.verdicts); older masters ignore these.
        server_verdict=server_outcome.verdict,
        players=[],
    )
    for player in players:
        score = scores.get(str(player.matchplayer_id), PlayerScore(None, 0))
        # The per-turn time limit, for the site to say what a timeout was.
        verdict = dict(player.outcome.verdict, turn_ms=turn_ms)
        # When the champion failed, the turn it went out of the game, where the game
        # server says it (the bundled game's does; stechec2's does not).
        if score.out_at_turn is not None and verdicts.failed(verdict):
            verdict["turn"] = score.out_at_turn
        result["players"].append(MatchResultPlayer(
            matchplayer_id=player.matchplayer_id, champion_id=player.champion_id,
            score=score.score, nb_timeout=score.nb_timeout,
            exit_status=player.outcome.exit_status, verdict=verdict,
            log=tail(logs[player.log_name])))
    return result


class PlayerScore(NamedTuple):
    """What the game server says of one player: its `score`, its `nb_timeout`, and
    `out_at_turn`, the turn (from 1) it went out of the game, None when unsaid."""
    score: int | None
    nb_timeout: int
    out_at_turn: int | None = None


def parse_scores(stdout):
    """{player name: PlayerScore} from the server's YAML documents. `out_at_turn`, which
    only the bundled game's server prints, is left unsaid when it is not a positive
    integer: the platform needs it only for words."""
    scores = {}
    try:
        documents = list(yaml.safe_load_all(stdout.decode("utf-8", errors="replace")))
    except yaml.YAMLError as e:
        raise ValueError(str(e).splitlines()[0]) from None
    for document in documents:
        if not isinstance(document, dict) or "player" not in document:
            continue
        score, nb_timeout = document.get("score"), document.get("nb_timeout", 0)
        if not isinstance(score, int) or not isinstance(nb_timeout, int):
            raise ValueError(f"player {document['player']}: score and nb_timeout must be "
                             "integers")
        out_at_turn = document.get("out_at_turn")
        scores[str(document["player"])] = PlayerScore(
            score, nb_timeout, out_at_turn if verdicts.integer_at_least(out_at_turn, 1) else None)
    return scores


def _publish_match(outputs, work, players):
    """Publish the logs (each, even when its program never wrote one), the dump
    (gzipped) and the replay as the attempt's outputs; the logs' contents,
    {name: bytes}, for the result."""
    logs = {name: _read(os.path.join(work, name))
            for name in [paths.SERVER_LOG] + [p.log_name for p in players]}
    return _publish(outputs, logs, work)


def _publish(outputs, logs, work=None):
    """Publish `logs` ({name: bytes}) and, from the match directory `work` when given,
    the dump and the replay; return `logs`."""
    staging = outputs.start()
    for name, data in logs.items():
        with open(os.path.join(staging, name), "wb") as f:
            f.write(data)
    if work is not None:
        _publish_files(staging, work)
    outputs.publish()
    return logs


def _publish_files(staging, work):
    dump = os.path.join(work, SERVER_DIR, "dump.json")
    if os.path.isfile(dump):
        with open(dump, "rb") as src, gzip.open(os.path.join(staging, paths.DUMP), "wb") as dst:
            shutil.copyfileobj(src, dst)
    replay = os.path.join(work, SERVER_DIR, "replay")
    if os.path.isfile(replay):
        shutil.copyfile(replay, os.path.join(staging, paths.REPLAY))


def _program_failure(what, outcome, log):
    """`what` failed, how, and the last line it printed (loader errors, usage errors and
    the like say there why it could not run)."""
    excerpt = last_line(log)
    return f"{what} {outcome.reason}" + (f": {excerpt}" if excerpt else "")


def last_line(log):
    """The last non-blank line of `log` (bytes) as plain text: colour codes and control
    characters removed, at most EXCERPT_CHARS long."""
    text = _ESCAPES.sub("", log[-64 * 1024:].decode("utf-8", errors="replace"))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[-1]
    return line if len(line) <= EXCERPT_CHARS else line[:EXCERPT_CHARS - 3] + "..."


def _append(path, data):
    with open(path, "ab") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def failed_result(spec, reason, *, retryable, server_exit=None, server_log=b""):
    return MatchResult(
        status=Status.FAILED, reason=reason, retryable=retryable, server_exit=server_exit,
        server_log=tail(server_log),
        players=[MatchResultPlayer(matchplayer_id=p["matchplayer_id"],
                                   champion_id=p["champion_id"], score=None, nb_timeout=0,
                                   exit_status=None, log=b"")
                 for p in spec["players"]])
