"""master-node.yml: the sample is valid, and mistakes stop the master with one line."""

import os
import subprocess
import sys

from stechec.common import config
from stechec.master_node.config import MASTER_SCHEMA

from .conftest import ROOT

SAMPLE = os.path.join(ROOT, "share", "master-node.yml")


def run_master(path):
    return subprocess.run([sys.executable, "-m", "stechec.master_node.main", "-c", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, STECHEC_SYSLOG_SOCKET="/nonexistent"))


def test_the_sample_lists_every_key_with_its_default():
    with open(SAMPLE) as f:
        text = f.read()
    loaded = config.parse(text.replace("CHANGEME", "s3cret"), SAMPLE, MASTER_SCHEMA)
    defaults = config.parse("master: {shared_secret: s3cret, game: tictactoe}\n"
                            "sql: {database: stechec, password: s3cret}", "defaults",
                            MASTER_SCHEMA)
    assert loaded == defaults


def test_the_sample_placeholder_stops_the_master():
    result = run_master(SAMPLE)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"master-node: configuration error: {SAMPLE}: master.shared_secret: still set to "
        "CHANGEME; choose a long random value (and the same one on every node that shares it)")


def test_a_misspelt_key_is_named(tmp_path):
    path = tmp_path / "master-node.yml"
    path.write_text("master: {shared_secret: s, game: g}\nworker: {timeout_sec: 3}\n"
                    "sql: {database: d}\n")
    result = run_master(path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"master-node: configuration error: {path}: worker.timeout_sec: unknown key "
        "(did you mean 'worker.timeout_secs'?)")


def test_a_database_without_tables_stops_the_master_with_a_hint(tmp_path):
    path = tmp_path / "master-node.yml"
    path.write_text("master: {shared_secret: s, game: g, host: 127.0.0.1, port: 0}\n"
                    f"sql: {{engine: sqlite, database: {tmp_path}/empty.sqlite3}}\n")
    result = run_master(path)
    assert result.returncode == 1
    assert "is not usable: no such table: stechec_champion (did `stechec-manage migrate` " \
        "run?)" in result.stderr
