"""The schema of worker-node.yml, and the values derived from it.

share/worker-node.yml is the commented sample: keep both in step.
"""

import os
import shutil
import socket
import sys
import tempfile

from stechec.common import share
from stechec.common.config import PLACEHOLDER, Key
from stechec.worker_node import limits
from stechec.worker_node.compilation import available_languages
from stechec.worker_node.limits import GIB, KIB, MIB

PROGRAM = "worker-node"

# Unix socket paths hold at most 107 bytes; a match's are
# <work_directory>/match-<id>-XXXXXXXX/sockets/rep.
MAX_WORK_DIRECTORY = 64

# What a sandbox sees of the machine, read-only, when bubblewrap is used.
SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt"]


SCHEMA = {
    "master": {
        "host": Key(str),
        "port": Key(int, 8067, minimum=1),
        # Well below the master's worker.timeout_secs (10 s by default).
        "heartbeat_secs": Key(float, 2.0, minimum=0.05),
        "shared_secret": Key(str, secret=True),
        "rpc_timeout_secs": Key(float, 10.0, minimum=0.1),
        # How long a result is retried while the master cannot be reached.
        "callback_retry_secs": Key(float, 600.0, minimum=0.0),
    },
    "worker": {
        # The name the master calls back; by default this machine's hostname.
        "host": Key(str, None, nullable=True),
        "listen": Key(str, "0.0.0.0"),
        # 0 takes any free port (the heartbeat tells the master which).
        "port": Key(int, 8068, minimum=0),
        # Prometheus metrics at http://listen:metrics_port/metrics; none when empty.
        "metrics_port": Key(int, None, nullable=True, minimum=0),
        "available_slots": Key(int, 4, minimum=1),
        "debug": Key(bool, False),
    },
    "contest": {
        "directory": Key(str),
        "game": Key(str),
    },
    "paths": {
        "stechec_server": Key(str, "stechec2-refgame-server"),
        "stechec_client": Key(str, "stechec2-refgame-client"),
        # The rules library (stechec2: /usr/lib/lib<game>.so); by default the
        # game's name, which is what the bundled runtime takes.
        "rules": Key(str, None, nullable=True),
        # The player environment: one folder <language>/ per language, holding
        # Makefile-<language> (stechec2's generator writes it so).
        "player_env": Key(str, None, nullable=True),
        "compile_script": Key(str, None, nullable=True),
        # The file a compilation must produce in the champion's directory.
        "champion_artifact": Key(str, "champion"),
        # Extra environment for the compile script and the game binaries.
        "env": Key(dict, {}),
        # Private working directories; by default under the system's temporary directory.
        "work_directory": Key(str, None, nullable=True),
    },
    "match": {
        "time_ms": Key(int, 1000, minimum=1),
        "verbose": Key(int, 1, minimum=0),
        # Pass --dump (some stechec2 games abort with it).
        "dump": Key(bool, True),
        # How long the clients may run on once the server has finished.
        "client_grace_secs": Key(float, 5.0, minimum=0.0),
        # How long the server has to open its socket before clients start.
        "server_start_secs": Key(float, 10.0, minimum=0.1),
    },
    "limits": {
        "compilation": limits.schema(cpu_secs=120, wall_secs=180, memory_bytes=2 * GIB,
                                     processes=64),
        "server": limits.schema(cpu_secs=600, wall_secs=900, memory_bytes=2 * GIB,
                                processes=32),
        "client": limits.schema(cpu_secs=600, wall_secs=900, memory_bytes=1 * GIB,
                                processes=32),
        "archive_members": Key(int, 2000, minimum=1),
        "archive_unpacked_bytes": Key(int, 64 * MIB, minimum=KIB),
    },
    "sandbox": {
        # When the worker runs as root, each program runs as a user id of its
        # own among first_uid .. first_uid + available_slots - 1 (group
        # first_uid): pick a range no account uses.
        "first_uid": Key(int, 62000, minimum=1000),
        # Use bubblewrap (no network, read-only system) when it works here.
        "bubblewrap": Key(bool, True),
        "ro_binds": Key(list, SYSTEM_DIRS),
    },
}


def hostname(config):
    return config["worker"]["host"] or socket.gethostname()


def resolve_paths(config):
    """Fill the path defaults and make every program an absolute path."""
    paths = config["paths"]
    root = share.share_dir()
    paths["player_env"] = paths["player_env"] or os.path.join(root, "player_env")
    paths["compile_script"] = paths["compile_script"] or os.path.join(
        root, "compile-champion.sh")
    paths["rules"] = paths["rules"] or config["contest"]["game"]
    paths["work_directory"] = paths["work_directory"] or os.path.join(
        tempfile.gettempdir(), f"stechec-worker-{config['worker']['port']}")
    for key in ("stechec_server", "stechec_client"):
        paths[key] = _program(paths[key])
    paths["env"] = {str(k): str(v) for k, v in paths["env"].items()}
    return config


def resolve_limits(config):
    """Make each kind of program's limits section (checked when the file was read) a
    limits.Limits."""
    for kind in ("compilation", "server", "client"):
        config["limits"][kind] = limits.Limits(**config["limits"][kind])
    return config


def _program(name):
    """An absolute path for `name`, looked up where the worker itself was installed first:
    beside the worker-node program (a waf install's P/bin, a venv's bin) and its
    interpreter, then on PATH."""
    if os.path.isabs(name):
        return name
    installed = [os.path.dirname(os.path.abspath(sys.argv[0])), os.path.dirname(sys.executable)]
    return shutil.which(name, path=os.pathsep.join([*installed, os.environ.get("PATH", "")])) \
        or name


def check_paths(config):
    """One line naming the first configured file or directory that is not usable, or None."""
    directory = config["contest"]["directory"]
    if directory == PLACEHOLDER:
        return f"contest.directory: still set to {PLACEHOLDER}; set the shared directory"
    if not os.path.isdir(directory):
        return f"contest.directory: {directory!r} is not a directory (is the share mounted?)"
    paths = config["paths"]
    for key in ("stechec_server", "stechec_client", "compile_script"):
        if not (os.path.isfile(paths[key]) and os.access(paths[key], os.X_OK)):
            return f"paths.{key}: {paths[key]!r} is not an executable file"
    if not os.path.isdir(paths["player_env"]):
        return f"paths.player_env: {paths['player_env']!r} is not a directory"
    if not available_languages(paths["player_env"]):
        return (f"paths.player_env: {paths['player_env']!r} holds no language (no "
                "<language>/Makefile-<language>)")
    if os.path.isabs(paths["rules"]) and not os.path.isfile(paths["rules"]):
        return f"paths.rules: {paths['rules']!r} is not a file"
    if len(paths["work_directory"]) > MAX_WORK_DIRECTORY:
        return (f"paths.work_directory: longer than {MAX_WORK_DIRECTORY} characters, too long "
                "for the matches' unix socket paths")
    return None
