"""Compiling a champion.

The sources (`champion.tgz` in the champion's shared directory, as the player
environment's `make tar` makes it) are checked and unpacked into a private
directory; the language is the contents of a `_lang` file when there is one,
else guessed from the file extensions, among the languages of the player
environment: its folders `<language>/` holding a `Makefile-<language>`, as
stechec2's generator lays them out. The compile script then runs
`STECHEC_SERVER=1 make -f <player_env>/<language>/Makefile-<language> all`
there, in the sandbox. A compilation succeeds when the script exits with
status 0 and leaves a valid champion artifact: make's status alone proves
nothing (stechec2's Python rules link an empty `champion.so` from no source).
The whole build directory is then packed into
`champion-compiled.tar.gz`, which matches unpack; it and `compilation.log`
are published together as the attempt's outputs (stechec.worker_node.outputs):
a reader sees both or neither, never half a file.
"""

import datetime
import logging
import os
import tarfile

from stechec.common import archive, paths, verdicts
from stechec.common.tasks import CompilationResult, Status
from stechec.worker_node.workspace import off_hub

logger = logging.getLogger(__name__)

LANGUAGE_FILE = "_lang"
MAKEFILE_PREFIX = "Makefile-"
ELF_MAGIC = b"\x7fELF"
# The ELF header's e_type (bytes 16-17, in the byte order byte 5 names) of a shared object.
ELF_SHARED_OBJECT = 3
# Extension -> the names a player environment may use for that language, in order.
LANGUAGE_EXTENSIONS = {
    ".c": ("c",), ".cc": ("cxx",), ".cpp": ("cxx",), ".cxx": ("cxx",),
    ".py": ("python",), ".rs": ("rust",), ".java": ("java",), ".ml": ("caml",),
    ".hs": ("haskell",), ".go": ("go",), ".cs": ("cs",), ".js": ("javascript",),
    ".php": ("php",), ".pl": ("perl",), ".lua": ("lua",), ".d": ("d",),
}


class ChampionError(Exception):
    """The champion's fault: the message goes to its compilation log."""


def available_languages(player_env):
    """The languages of `player_env`: its folders `<language>/` holding `Makefile-<language>`."""
    try:
        names = os.listdir(player_env)
    except OSError:
        return set()
    return {name for name in names
            if os.path.isfile(os.path.join(player_env, name, MAKEFILE_PREFIX + name))}


def detect_language(build_dir, available):
    """The champion's language, or raise ChampionError saying why it cannot be told."""
    known = ", ".join(sorted(available)) or "none"
    lang_file = os.path.join(build_dir, LANGUAGE_FILE)
    if os.path.isfile(lang_file):
        with open(lang_file, encoding="utf-8", errors="replace") as f:
            language = f.read(100).strip()
        if language not in available:
            raise ChampionError(f"{LANGUAGE_FILE} says {language!r}, which is not a language "
                                f"of this contest (known: {known})")
        return language
    found = set()
    for _root, _dirs, files in os.walk(build_dir):
        for name in files:
            for candidate in LANGUAGE_EXTENSIONS.get(os.path.splitext(name)[1].lower(), ()):
                if candidate in available:
                    found.add(candidate)
                    break
    if {"c"} < found and found - {"c"} <= {"cxx"}:
        # C++ champions often carry C files too.
        found -= {"c"}
    if len(found) == 1:
        return found.pop()
    if not found:
        raise ChampionError(f"no source file of a known language (known: {known}); "
                            f"name the language in a {LANGUAGE_FILE} file")
    raise ChampionError(f"sources in several languages ({', '.join(sorted(found))}); "
                        f"name the language in a {LANGUAGE_FILE} file")


def compile_champion(workspace, task, user, outputs):
    """Compile champion `task.id` of `user`; return the `compilation_result` payload.

    `outputs` (AttemptOutputs) is where the log and the build are published.
    Returns None when the task was cancelled (nothing is published then).
    """
    config = workspace.config
    cfg_paths, limits = config["paths"], config["limits"]
    sources = os.path.join(outputs.task_dir, paths.CHAMPION_SOURCES)
    if not os.path.isfile(sources):
        # The path is for the operator; the reason may reach a player's page.
        logger.warning("%s: the sources are missing: %s", task, sources)
        return failed_result("the sources are missing from the shared directory")
    with workspace.private_dir(f"compile-{task.id}") as work:
        build = os.path.join(work, "champion")
        os.mkdir(build)
        log_path = os.path.join(work, paths.COMPILATION_LOG)
        language = ""
        with open(log_path, "w", encoding="utf-8") as log:
            log.write(f"Champion {task.id} of {user}, compiled on {workspace.hostname} at "
                      f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M:%S} UTC\n")
        try:
            off_hub(archive.extract, sources, build, max_members=limits["archive_members"],
                    max_unpacked_bytes=limits["archive_unpacked_bytes"])
            language = detect_language(build, available_languages(cfg_paths["player_env"]))
        except (archive.ArchiveError, ChampionError) as e:
            reason = f"the champion was refused: {e}"
            return _publish(outputs, log_path, None, _result(Status.ERROR, language, b"", reason))
        _append(log_path, f"Language: {language}\n\n")
        outcome = workspace.run(
            task, [cfg_paths["compile_script"], cfg_paths["player_env"], language, build],
            writable=[build], owned=[build], cwd=build, limits=limits["compilation"],
            log_path=log_path,
            env=workspace.environment(build, {"STECHEC_PLAYER_ENV": cfg_paths["player_env"]}))
        if task.cancelled:
            return None
        _append(log_path, f"\nThe build {verdicts.describe(outcome.verdict)} "
                          f"({verdicts.usage(outcome.verdict)}).\n")
        if not outcome.ok:
            result = _result(Status.ERROR, language, b"",
                             f"the build {verdicts.describe(outcome.verdict)}")
        elif problem := artifact_problem(build, cfg_paths["champion_artifact"]):
            result = _result(Status.ERROR, language, b"", f"make succeeded but {problem}")
        else:
            result = _result(Status.READY, language, b"", "")
        # The build's verdict goes with the result (stechec.common.verdicts); older masters
        # ignore it.
        result["verdict"] = outcome.verdict
        return _publish(outputs, log_path, build if result["status"] == Status.READY else None,
                        result)


def artifact_problem(build, name):
    """Why `name` in `build` is not a champion a client can run, or None.

    It must be a non-empty regular file; a `.so` (what stechec2's clients
    load) must be an ELF shared object.
    """
    path = os.path.join(build, name)
    if os.path.islink(path) or not os.path.isfile(path):
        return f"it left no file '{name}'"
    with open(path, "rb") as f:
        header = f.read(18)
    if not header:
        return f"'{name}' is empty"
    if name.endswith(".so") and not _is_shared_object(header):
        return f"'{name}' is not an ELF shared object"
    return None


def _is_shared_object(header):
    if len(header) < 18 or header[:4] != ELF_MAGIC or header[5] not in (1, 2):
        return False
    byte_order = "little" if header[5] == 1 else "big"
    return int.from_bytes(header[16:18], byte_order) == ELF_SHARED_OBJECT


def failed_result(reason):
    """A compilation that failed for the platform's reasons (retried by the master)."""
    return _result(Status.FAILED, "", b"", reason)


def _result(status, language, log, reason):
    return CompilationResult(status=status, language=language, log=log, reason=reason)


def _append(log_path, text):
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(text)


def _publish(outputs, log_path, build, result):
    """Finish the log, publish it with the build (when there is one), and fill the result's
    log tail."""
    if result["status"] == Status.READY:
        _append(log_path, "Compilation succeeded.\n")
    else:
        _append(log_path, f"Compilation failed: {result['reason']}.\n")
    with open(log_path, "rb") as f:
        data = f.read()
    off_hub(_write_outputs, outputs, data, build)
    result["log"] = tail(data)
    return result


def _write_outputs(outputs, log, build):
    staging = outputs.start()
    if build is not None:
        with tarfile.open(os.path.join(staging, paths.CHAMPION_COMPILED), "w:gz") as tar:
            tar.add(build, arcname=".", filter=_packable)
    with open(os.path.join(staging, paths.COMPILATION_LOG), "wb") as f:
        f.write(log)
    outputs.publish()


def tail(data, limit=64 * 1024):
    """The end of a log, at most `limit` bytes: what results carry. Bytes, as the program
    wrote them (NUL, ESC, invalid UTF-8 and all): XML-RPC carries them as base64."""
    if len(data) > limit:
        data = b"[...]\n" + data[-limit + 6:]
    return data


def _packable(member):
    """Files, directories and links that stay inside; what a build left besides is dropped."""
    if member.isfile() or member.isdir():
        return member
    if member.issym():
        target = os.path.normpath(os.path.join(os.path.dirname(member.name), member.linkname))
        if not os.path.isabs(member.linkname) and not target.startswith(".."):
            return member
    return None

