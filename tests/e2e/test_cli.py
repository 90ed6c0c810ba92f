"""The player's journey through `stechec` on the whole cluster (gunicorn, master, workers):
a folder packed by its `make tar`, compiled, a match against another player by name, its
scores, logs, dump and replay; and a champion that does not compile, with its log."""

import gzip
import json
import os
import shutil
import subprocess
import sys

import pytest
from django.contrib.auth.models import User

from stechec.www.api import tokens
from tests.e2e.conftest import ROOT, SAMPLES, WAIT_SECS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PLAYER_ENV = os.path.join(ROOT, "share", "player_env", "python")


def player_folder(tmp_path, name, champion_py):
    """A copy of the python player environment holding `champion_py`."""
    folder = tmp_path / name
    shutil.copytree(PLAYER_ENV, folder)
    shutil.copy(champion_py, folder / "champion.py")
    return folder


def as_player(cluster, username, tmp_path):
    """A function running `stechec` as `username`, logged in with a token of theirs."""
    config_home = tmp_path / f"config-{username}"
    env = dict(os.environ, XDG_CONFIG_HOME=str(config_home))

    def stechec(*args):
        return subprocess.run([sys.executable, "-m", "stechec.cli", *map(str, args)],
                              env=env, capture_output=True, text=True,
                              timeout=WAIT_SECS * 3)

    _, token = tokens.create(User.objects.get(username=username), "e2e", ["read", "submit"])
    done = stechec("login", cluster.url, "--token", token)
    assert done.returncode == 0, done.stderr
    return stechec


def test_upload_compile_match_logs_outputs_and_a_failed_compile_by_command_line(cluster,
                                                                              tmp_path):
    alice = as_player(cluster, "alice", tmp_path)
    bob = as_player(cluster, "bob", tmp_path)

    uploaded = alice("upload", player_folder(tmp_path, "good", os.path.join(
        SAMPLES, "python-good", "champion.py")), "--name", "good", "--wait")
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    assert "is ready." in uploaded.stdout
    uploaded = bob("upload", player_folder(tmp_path, "random", os.path.join(
        SAMPLES, "python-random", "champion.py")), "--name", "random", "--wait")
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr

    played = alice("match", "alice", "bob", "--wait")
    assert played.returncode == 0, played.stdout + played.stderr
    assert "alice/good" in played.stdout and "bob/random" in played.stdout
    match_id = json.loads(alice("matches", "--mine", "--json").stdout)[0]["id"]

    assert alice("logs", match_id).stdout.strip()
    target = tmp_path / "outputs"
    fetched = alice("download", match_id, target, "--replay", "--dump", "--logs")
    assert fetched.returncode == 0, fetched.stderr
    names = os.listdir(target)
    assert f"match-{match_id}-replay" in names
    assert f"match-{match_id}-server.log" in names
    # alice reads her champion's log and not bob's.
    assert len([n for n in names if "-player-" in n]) == 1
    with gzip.open(target / f"match-{match_id}-dump.json.gz") as f:
        assert f.read(1)

    # One test: the test database is emptied after each (the accounts with it).
    broken = tmp_path / "broken.py"
    broken.write_text("def play(:\n")

    uploaded = alice("upload", player_folder(tmp_path, "broken", broken), "--wait")

    assert uploaded.returncode == 1
    assert "SyntaxError" in uploaded.stdout
    assert ": error." in uploaded.stderr
