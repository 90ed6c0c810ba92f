"""Compiling champions through a real worker process, over signed XML-RPC."""

import io
import os
import shutil
import tarfile
import tempfile
import xmlrpc.client
from pathlib import Path

import pytest

from devtools.archives import zero_bomb
from stechec.common import paths
from tests.worker_node.conftest import C_CHAMPION, CPP_CHAMPION, PYTHON_CHAMPION

# language -> (tool it needs, a champion that compiles, one that does not, the compiler's word)
LANGUAGES = {
    "c": ("cc", {"prologin.c": C_CHAMPION}, {"prologin.c": "int main( {"}, "error"),
    "cxx": ("c++", {"prologin.cc": CPP_CHAMPION}, {"prologin.cc": "class {"}, "error"),
    "python": ("python3", {"champion.py": PYTHON_CHAMPION}, {"champion.py": "def (:"},
               "SyntaxError"),
}


@pytest.fixture
def worker(start_worker):
    return start_worker()


def _compiled_members(worker, user, champion_id):
    path = worker.champion_outputs(user, champion_id) / paths.CHAMPION_COMPILED
    with tarfile.open(path, "r:gz") as tar:
        return {os.path.normpath(name) for name in tar.getnames()}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_compile_success_and_failure_per_language(worker, language):
    tool, good, bad, word = LANGUAGES[language]
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is needed to compile {language} champions")

    result = worker.compile("alice", 1, good)
    assert result["status"] == "ready", result
    assert result["language"] == language
    assert result["reason"] == ""
    champion_dir = worker.champion_dir("alice", 1)
    assert worker.champion_outputs("alice", 1) == champion_dir / "attempt-1"
    log = (champion_dir / "attempt-1" / paths.COMPILATION_LOG).read_text()
    assert log.encode() == result["log"]
    assert log.endswith("Compilation succeeded.\n")
    assert "The build finished normally (CPU " in log
    assert result["verdict"]["ended"] == "exit" and result["verdict"]["wall_ms"] > 0
    assert "champion" in _compiled_members(worker, "alice", 1)
    assert sorted(p.name for p in champion_dir.iterdir()) == ["attempt-1", "champion.tgz"]

    result = worker.compile("alice", 2, bad)
    assert result["status"] == "error", result
    assert result["language"] == language
    assert result["reason"].startswith("the build exited with status")
    assert result["verdict"]["ended"] == "exit" and result["verdict"]["exit_status"] > 0
    log = (worker.champion_outputs("alice", 2) / paths.COMPILATION_LOG).read_text()
    assert word in log
    # Once, how it ended, and how long it took.
    assert log.count(f"Compilation failed: {result['reason']}.") == 1
    assert f"The build exited with status {result['verdict']['exit_status']} (CPU " in log
    assert not (worker.champion_outputs("alice", 2) / paths.CHAMPION_COMPILED).exists()
    worker.wait_idle()


def test_language_from_lang_file_and_refusals(worker):
    # _lang wins over the extensions.
    result = worker.compile("bob", 1, {"_lang": "python\n", "champion.py": PYTHON_CHAMPION,
                                       "helper.c": "int x;"})
    assert (result["status"], result["language"]) == ("ready", "python"), result

    result = worker.compile("bob", 2, {"_lang": "cobol", "main.cob": "x"})
    assert result["status"] == "error"
    assert "'cobol', which is not a language of this contest" in result["reason"]

    result = worker.compile("bob", 3, {"README": "no code here"})
    assert result["status"] == "error"
    assert "no source file of a known language" in result["reason"]

    result = worker.compile("bob", 4, {"a.c": C_CHAMPION, "b.py": PYTHON_CHAMPION})
    assert result["status"] == "error"
    assert "several languages (c, python)" in result["reason"]

    # C++ champions may carry C files.
    result = worker.compile("bob", 5, {"main.cc": CPP_CHAMPION, "util.c": "int util;"})
    assert (result["status"], result["language"]) == ("ready", "cxx"), result
    assert (worker.champion_outputs("bob", 2) / paths.COMPILATION_LOG).exists()


def test_missing_sources_are_a_platform_failure(worker):
    result = worker.compile("carol", 9)
    assert result["status"] == "failed"
    # The path is in the worker's log, not in a reason a page may show.
    assert result["reason"] == "the sources are missing from the shared directory"
    assert f"the sources are missing: {worker.champion_dir('carol', 9)}" in worker.log()
    worker.wait_idle()


def _tar(members):
    """A .tgz of (TarInfo, data) pairs, as a hostile client could craft it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _file(name, data=b"int x;\n"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _special(name, kind, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


@pytest.fixture(scope="module")
def bomb():
    """About 1 MB of gzip that unpacks to 1 GiB."""
    data = zero_bomb(2**30, "prologin.c")
    assert len(data) < 2 * 2**20
    return data


HOSTILE_ARCHIVES = {
    "absolute path": (lambda: _tar([_file("/etc/evil.c")]), "absolute paths"),
    "dot-dot": (lambda: _tar([_file("../../evil.c")]), "'..'"),
    "symlink": (lambda: _tar([_file("a.c"), _special("passwd", tarfile.SYMTYPE,
                                                     "/etc/passwd")]), "links"),
    "hard link": (lambda: _tar([_file("a.c"), _special("shadow", tarfile.LNKTYPE,
                                                       "/etc/shadow")]), "links"),
    "device": (lambda: _tar([_file("a.c"), _special("sda", tarfile.CHRTYPE)]),
               "only regular files"),
    "too many members": (lambda: _tar([_file(f"f{i}.c") for i in range(2001)]),
                         "too many files"),
    "not an archive": (lambda: b"this is not gzip", "not a gzip-compressed tar"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_ARCHIVES) + ["gzip bomb"])
def test_hostile_archive_is_refused(worker, bomb, kind):
    if kind == "gzip bomb":
        data, words = bomb, "unpacks to more than"
    else:
        make, words = HOSTILE_ARCHIVES[kind]
        data = make()
    directory = worker.champion_dir("mallory", 1)
    directory.mkdir(parents=True)
    (directory / paths.CHAMPION_SOURCES).write_bytes(data)
    result = worker.compile("mallory", 1)
    assert result["status"] == "error", result
    assert result["reason"].startswith("the champion was refused: ")
    assert words in result["reason"]
    assert words in (worker.champion_outputs("mallory", 1) / paths.COMPILATION_LOG).read_text()
    assert not (worker.champion_outputs("mallory", 1) / paths.CHAMPION_COMPILED).exists()
    assert not list(worker.work.glob("*/champion/*")), "nothing may stay unpacked"
    # The worker goes on serving.
    assert worker.compile("alice", 2, {"prologin.c": C_CHAMPION})["status"] == "ready"


def test_hostile_compilation_is_stopped(start_worker):
    worker = start_worker(limits={"compilation": {"cpu_secs": 5, "wall_secs": 30,
                                                  "memory_bytes": 256 * 2**20}})
    # The preprocessor reads an endless file.
    result = worker.compile("mallory", 1, {"prologin.c": '#include "/dev/zero"\n'})
    assert result["status"] == "error", result
    assert result["reason"].startswith("the build stopped: "), result["reason"]
    worker.wait_idle()
    assert worker.compile("alice", 2, {"prologin.c": C_CHAMPION})["status"] == "ready"


def test_compile_refused_without_free_slots_and_bad_tasks(worker):
    status = worker.rpc.status()
    assert status["free_slots"] == status["max_slots"] == 4
    worker.upload("dave", 1, {"prologin.c": C_CHAMPION})
    task = {"champion_id": 1, "attempt": 1, "user": "dave", "slots": 5}
    assert worker.rpc.compile_champion(task) is False
    assert worker.rpc.status()["free_slots"] == 4
    assert not worker.master.calls_of("compilation_result")
    for bad, words in [({"champion_id": "1", "attempt": 1, "user": "dave", "slots": 1},
                        "champion_id: expected an integer"),
                       ({"champion_id": 1, "attempt": 1, "user": "../x", "slots": 1},
                        "user: not a valid user name"),
                       ({"champion_id": 1, "attempt": 1, "user": "dave", "slots": 0},
                        "slots: must be at least 1")]:
        with pytest.raises(xmlrpc.client.Fault) as fault:
            worker.rpc.compile_champion(bad)
        assert fault.value.faultCode == 1
        assert words in fault.value.faultString
    assert worker.rpc.status()["free_slots"] == 4


def test_rlimits_only_when_bubblewrap_is_off(start_worker):
    worker = start_worker(sandbox={"bubblewrap": False})
    assert "bubblewrap works" not in worker.log()
    assert worker.compile("alice", 1, {"prologin.c": C_CHAMPION})["status"] == "ready"
    result = worker.compile("alice", 2, {"prologin.c": "int main( {"})
    assert result["status"] == "error"
    worker.wait_idle()


# Languages whose make exits 0 without leaving a champion a client can load.
NO_VALID_ARTIFACT = {
    "nothing": ("", "make succeeded but it left no file 'champion.so'"),
    "empty": ("\ttouch champion.so\n", "make succeeded but 'champion.so' is empty"),
    "text": ("\techo 'not a library' > champion.so\n",
             "make succeeded but 'champion.so' is not an ELF shared object"),
    "object": ("\tcc -c -o champion.so prologin.c\n",
               "make succeeded but 'champion.so' is not an ELF shared object"),
    "library": ("\tcc -shared -fPIC -o champion.so prologin.c\n", None),
}


@pytest.fixture
def artifact_player_env():
    """A player environment (stechec2's layout) of the NO_VALID_ARTIFACT languages, where
    the sandbox's user ids may read it."""
    root = Path(tempfile.mkdtemp(prefix="stechec-player-env-"))
    root.chmod(0o755)
    for language, (recipe, _) in NO_VALID_ARTIFACT.items():
        (root / language).mkdir()
        (root / language / f"Makefile-{language}").write_text(f"all:\n{recipe}")
    yield root
    shutil.rmtree(root)


def test_make_success_without_a_valid_artifact_is_the_champions_error(
        start_worker, artifact_player_env):
    worker = start_worker(paths={"player_env": str(artifact_player_env),
                                 "champion_artifact": "champion.so"})
    for number, (language, (_, reason)) in enumerate(sorted(NO_VALID_ARTIFACT.items()), 1):
        result = worker.compile("alice", number, {"_lang": language, "prologin.c": C_CHAMPION})
        if reason is None:
            assert result["status"] == "ready", result
            continue
        assert (result["status"], result["reason"]) == ("error", reason), result
        log = (worker.champion_outputs("alice", number) / paths.COMPILATION_LOG).read_text()
        assert f"Compilation failed: {reason}" in log
        assert not (worker.champion_outputs("alice", number)
                    / paths.CHAMPION_COMPILED).exists()
