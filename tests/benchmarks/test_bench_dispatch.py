"""tools/bench-dispatch runs to its last line (tiny sizes; its figures are not checked)."""

import os
import re

import pytest

from tests.conftest import run_tool


@pytest.mark.db
def test_bench_dispatch_prints_its_figures():
    if os.environ.get("STECHEC_TEST_DB") != "postgresql":
        pytest.skip("the benchmark needs PostgreSQL (this runs in the PostgreSQL pass)")
    run = run_tool("bench-dispatch", "--workers", "5", "--tasks", "300", "--steady-tasks", "50",
                   "--rpc-secs", "0.5", "--idle-secs", "0.5")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    number = r"\d+(\.\d+)?"
    assert re.fullmatch(
        rf"bench-dispatch workers=5 drain_per_s={number} rpc_per_s={number} "
        rf"drain_ratio={number} cpu_calls_per_task={number} steady_rate={number} "
        rf"steady_p50_ms={number} steady_p99_ms={number}", lines[-1]), lines[-1]
    assert "warnings" not in run.stdout
