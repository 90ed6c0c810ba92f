"""worker-node.yml: the samples, and one clear line for each mistake."""

import dataclasses
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest
import yaml

from stechec.common import config
from stechec.worker_node import settings
from stechec.worker_node.limits import Limits
from tests.worker_node.conftest import HERE, ROOT

SAMPLE = ROOT / "share" / "worker-node.yml"
STECHEC2_SAMPLE = ROOT / "share" / "worker-node-stechec2.yml"


def _load_sample(path):
    text = path.read_text().replace("shared_secret: CHANGEME", "shared_secret: s3cret")
    return config.parse(text, str(path), settings.SCHEMA, debug_key="worker.debug")


@pytest.mark.parametrize("sample", [SAMPLE, STECHEC2_SAMPLE], ids=["refgame", "stechec2"])
def test_samples_follow_the_schema(sample):
    with pytest.raises(config.ConfigError, match="master.shared_secret: still set to CHANGEME"):
        config.load("worker-node", str(sample), settings.SCHEMA, debug_key="worker.debug")
    loaded = _load_sample(sample)
    assert loaded["contest"]["directory"] == config.PLACEHOLDER
    # The sample states every default it does not leave commented out.
    defaults = config.parse("master: {host: h, shared_secret: s}\ncontest: {directory: d, "
                            "game: tictactoe}\n", "defaults", settings.SCHEMA)
    # Except the stechec2 sample's match.dump: tictactoe cannot dump.
    if sample == STECHEC2_SAMPLE:
        defaults["match"]["dump"] = False
    for section in ("master", "match", "limits", "sandbox"):
        assert {k: v for k, v in loaded[section].items() if k != "host"} == \
            {k: v for k, v in defaults[section].items() if k != "host"} | (
                {"shared_secret": "s3cret"} if section == "master" else {})


def test_limits_sections_become_limits():
    loaded = config.parse("master: {host: h, shared_secret: s}\ncontest: {directory: d, "
                          "game: g}\nlimits: {client: {memory_bytes: 536870912, wall_secs: 5}}\n",
                          "limits", settings.SCHEMA)
    settings.resolve_limits(loaded)
    client = loaded["limits"]["client"]
    assert client == Limits(cpu_secs=600, wall_secs=5.0, memory_bytes=512 * 2**20,
                            processes=32)
    assert client.in_words("memory") == "512 MiB"
    assert loaded["limits"]["compilation"].cpu_secs == 120
    assert loaded["limits"]["server"].memory_bytes == 2 * 2**30
    with pytest.raises(dataclasses.FrozenInstanceError):
        client.cpu_secs = 1


def test_samples_differ_only_in_paths_and_dump():
    refgame, stechec2 = _load_sample(SAMPLE), _load_sample(STECHEC2_SAMPLE)
    assert refgame.pop("paths") != stechec2.pop("paths")
    assert (refgame["match"].pop("dump"), stechec2["match"].pop("dump")) == (True, False)
    assert refgame == stechec2


def _run(tmp_path, text):
    path = tmp_path / "worker-node.yml"
    path.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "stechec.worker_node.main", "-c", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin",
                               "STECHEC_SYSLOG_SOCKET": str(tmp_path / "no-syslog")})
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "configuration error" in line]
    assert len(lines) == 1, proc.stderr
    return lines[0], path


def _config(tmp_path, **changes):
    base = {"master": {"host": "127.0.0.1", "shared_secret": "s3cret"},
            "contest": {"directory": str(tmp_path), "game": "testgame"},
            "paths": {"stechec_server": str(HERE / "standin_server.py"),
                      "stechec_client": str(HERE / "standin_client.py"),
                      "player_env": str(HERE / "player_env")}}
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        if value is None:
            del base[section][key]
        else:
            base.setdefault(section, {})[key] = value
    return yaml.safe_dump(base)


@pytest.mark.parametrize("changes, message", [
    ({"master__host": None}, "master.host: missing key"),
    ({"master__shared_secret": "CHANGEME"}, "master.shared_secret: still set to CHANGEME"),
    ({"worker__available_slot": 3},
     "worker.available_slot: unknown key (did you mean 'worker.available_slots'?)"),
    ({"worker__available_slots": "four"},
     "worker.available_slots: expected an integer, got a string 'four'"),
    ({"contest__directory": "CHANGEME"}, "contest.directory: still set to CHANGEME"),
    ({"contest__directory": "/nonexistent/share"},
     "contest.directory: '/nonexistent/share' is not a directory"),
    ({"paths__stechec_server": "/nonexistent/stechec2-server"},
     "paths.stechec_server: '/nonexistent/stechec2-server' is not an executable file"),
    ({"paths__player_env": "/nonexistent"}, "paths.player_env: '/nonexistent' is not a directory"),
    ({"paths__rules": "/nonexistent/libgame.so"},
     "paths.rules: '/nonexistent/libgame.so' is not a file"),
    ({"limits__client": {"memory": 1}},
     "limits.client.memory: unknown key (did you mean 'limits.client.memory_bytes'?)"),
    ({"limits__server": {"cpu_secs": 0}}, "limits.server.cpu_secs: 0 is below the minimum 1"),
    ({"limits__compilation": {"wall_secs": "long"}},
     "limits.compilation.wall_secs: expected a number, got a string 'long'"),
])
def test_mistakes_give_one_line(tmp_path, changes, message):
    line, path = _run(tmp_path, _config(tmp_path, **changes))
    assert line.startswith(f"worker-node: configuration error: {path}: ")
    assert message in line


def test_player_env_without_a_language_is_refused(tmp_path):
    # A flat Makefile-<language> is not stechec2's layout: no language there.
    flat = tmp_path / "flat-player-env"
    flat.mkdir()
    (flat / "Makefile-c").write_text("all:\n")
    (flat / "c").mkdir()
    line, path = _run(tmp_path, _config(tmp_path, paths__player_env=str(flat)))
    assert line == (f"worker-node: configuration error: {path}: paths.player_env: "
                    f"{str(flat)!r} holds no language (no <language>/Makefile-<language>)")


def test_missing_file(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "stechec.worker_node.main", "-c",
                           str(tmp_path / "nope.yml")], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert f"{tmp_path / 'nope.yml'}: file not found" in proc.stderr


def test_port_in_use(tmp_path):
    taken = socket.create_server(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    path = tmp_path / "worker-node.yml"
    work = tempfile.mkdtemp(prefix="stechec-worker-test-")
    path.write_text(_config(tmp_path, worker__listen="127.0.0.1", worker__port=port,
                            paths__work_directory=work))
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "stechec.worker_node.main", "-c", str(path)], cwd=ROOT,
            capture_output=True, text=True, timeout=60,
            env={"PATH": "/usr/bin:/bin", "STECHEC_SYSLOG_SOCKET": str(tmp_path / "no-syslog")})
    finally:
        taken.close()
        shutil.rmtree(work)
    assert proc.returncode == 1, proc.stderr
    assert f"worker-node: cannot listen on 127.0.0.1:{port}: Address already in use" in \
        proc.stderr


def test_a_mistake_checked_at_start_reaches_syslog_too(tmp_path, syslog):
    path = tmp_path / "worker-node.yml"
    path.write_text(_config(tmp_path, contest__directory="/nonexistent/share"))
    proc = subprocess.run([sys.executable, "-m", "stechec.worker_node.main", "-c", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "STECHEC_SYSLOG_SOCKET": syslog.path})
    line = (f"configuration error: {path}: contest.directory: '/nonexistent/share' is not a "
            "directory (is the share mounted?)")
    assert (proc.returncode, proc.stderr) == (2, f"worker-node: {line}\n")
    # <27>: facility daemon, level error.
    assert syslog.records() == [f"<27>worker-node: [ERROR] {line}"]
