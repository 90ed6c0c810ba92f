"""share/player_env: stechec2's layout, <lang>/Makefile-<lang> with the player's
<lang>/Makefile beside it. Each builds an executable `champion` from a player's
sources in server mode, or fails saying why; the result runs from anywhere; `make
tar` packs what the worker compiles."""

import os
import resource
import shutil
import subprocess
import tarfile

import pytest

from tests.conftest import require_tool
from tests.refgame.helpers import SHARE, build_champion, run_match

# The toolchain each optional language needs, beyond make, cc, c++ and python3.
OPTIONAL_LANGUAGES = {"rust": ["rustc"], "java": ["javac", "java"], "javascript": ["node"]}
BROKEN_SOURCES = {
    "c": ("champion.c", "int main(void) { return oops; }\n", "oops"),
    "cxx": ("champion.cc", "int main() { return oops; }\n", "oops"),
    "python": ("champion.py", "def broken(:\n", "SyntaxError"),
    "rust": ("main.rs", "fn main() { oops }\n", "oops"),
    "java": ("Champion.java", "public class Champion { oops }\n", "error"),
    "javascript": ("champion.js", "function (\n", "SyntaxError"),
}
EMPTY_ARCHIVE_ERRORS = {
    "c": "the archive holds no .c file",
    "cxx": "the archive holds no .cc, .cpp or .cxx file",
    "python": "the archive holds no champion.py",
    "rust": "the archive holds no main.rs",
    "java": "the archive holds no Champion.java",
    "javascript": "the archive holds no champion.js",
}


def need_toolchain(lang):
    for tool in OPTIONAL_LANGUAGES.get(lang, []):
        require_tool(tool, f"champions in {lang}")


# A sample champion of each language (share/champions/tictactoe/<name>).
SAMPLES = {"c": "c-random", "cxx": "cpp-random", "python": "python-random",
           "rust": "rust-random", "java": "java-random", "javascript": "javascript-random"}


def test_every_language_is_tested():
    languages = os.listdir(os.path.join(SHARE, "player_env"))
    for lang in languages:
        assert sorted(os.listdir(os.path.join(SHARE, "player_env", lang))) == [
            "Makefile", f"Makefile-{lang}"]
    assert set(languages) == set(BROKEN_SOURCES) == set(EMPTY_ARCHIVE_ERRORS) == set(SAMPLES)


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_make_tar_packs_the_champion_files_and_its_language(tmp_path, lang):
    player = tmp_path / lang
    shutil.copytree(os.path.join(SHARE, "player_env", lang), player)
    sample = os.path.join(SHARE, "champions", "tictactoe", SAMPLES[lang])
    sources = sorted(name for name in os.listdir(sample) if name != "_lang")
    for name in sources:
        shutil.copy(os.path.join(sample, name), player)
    with open(player / "Makefile", "a") as f:
        f.write(f"CHAMPION_FILES = {' '.join(sources)}\n")
    made = subprocess.run(["make", "tar"], cwd=player, capture_output=True, text=True,
                          timeout=60)
    assert made.returncode == 0, made.stderr
    with tarfile.open(player / "champion.tgz") as tar:
        assert sorted(tar.getnames()) == sorted(sources + ["_lang"])
        assert tar.extractfile("_lang").read() == f"{lang}\n".encode()


@pytest.mark.parametrize("lang", sorted(BROKEN_SOURCES))
def test_compile_error_fails_make_and_says_why(tmp_path, lang):
    need_toolchain(lang)
    name, text, error = BROKEN_SOURCES[lang]
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / name).write_text(text)
    made = build_champion(sources, tmp_path / "build", lang)
    assert made.returncode != 0
    assert error in made.stdout + made.stderr
    assert not (tmp_path / "build" / "champion").exists()


@pytest.mark.parametrize("lang", sorted(EMPTY_ARCHIVE_ERRORS))
def test_archive_without_sources_fails_make_and_says_why(tmp_path, lang):
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "README").write_text("no code here\n")
    made = build_champion(sources, tmp_path / "build", lang)
    assert made.returncode != 0
    assert EMPTY_ARCHIVE_ERRORS[lang] in made.stderr


@pytest.mark.parametrize("lang", ["python", "java", "javascript"])
def test_launcher_runs_after_the_directory_moved(tmp_path, lang):
    need_toolchain(lang)
    made = build_champion(os.path.join(SHARE, "champions", "tictactoe", SAMPLES[lang]),
                          tmp_path / "build")
    assert made.returncode == 0, made.stderr
    moved = tmp_path / "elsewhere" / "champion-dir"
    shutil.move(tmp_path / "build", moved)
    answer = subprocess.run([str(moved / "champion")], input="1 0.0.1.0.1\n",
                            capture_output=True, text=True, cwd="/", timeout=60)
    assert answer.returncode == 0, answer.stderr
    row, col = map(int, answer.stdout.split())
    assert (row * 3 + col) in (1, 3, 5, 7)


def limit_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))


@pytest.mark.parametrize("lang", ["c", "cxx", "python", "rust", "java"])
def test_champion_starts_within_512_mib_of_address_space(tmp_path, lang):
    # The worker's sandbox limits memory with RLIMIT_AS; the JVM needs the
    # flags of Makefile-java to start under it. (Node.js needs 1 GiB: see the
    # comment in Makefile-javascript.)
    need_toolchain(lang)
    made = build_champion(os.path.join(SHARE, "champions", "tictactoe", SAMPLES[lang]),
                          tmp_path / "build")
    assert made.returncode == 0, made.stderr
    answer = subprocess.run([str(tmp_path / "build" / "champion")], input="0 .........\n",
                            capture_output=True, text=True, timeout=60,
                            preexec_fn=limit_address_space)
    assert answer.returncode == 0, answer.stderr
    assert len(answer.stdout.split()) == 2


@pytest.mark.parametrize("lang", sorted(OPTIONAL_LANGUAGES))
def test_optional_language_sample_plays_a_match(tmp_path, samples, lang):
    need_toolchain(lang)
    made = build_champion(os.path.join(SHARE, "champions", "tictactoe", f"{lang}-random"),
                          tmp_path / "build")
    assert made.returncode == 0, made.stderr
    match = run_match(tmp_path / "match", "tictactoe",
                      [str(tmp_path / "build" / "champion"), samples["tictactoe", "c-good"]])
    assert match.server_status == 0, match.server_log
    assert match.timeouts() == [0, 0], match.client_logs
    assert match.by_name()["p2"]["score"] in (1, 2)
