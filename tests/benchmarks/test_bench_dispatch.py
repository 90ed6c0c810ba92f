"""tools/bench-dispatch runs to its last line (tiny sizes; its figures are not checked)."""

import os
import re

import pytest

from tests.conftest import run_tool


@pytest.mark.db
def test_bench_dispatch_prints_its_figures():
    if os.environ.get("STECHEC_TEST_DB") != "postgresql":
        pytest.skip("the benchmark needs PostgreSQL (this runs in the PostgreSQL pass)")
    run = run_tool("bench-dispatch", "--workers", "5", "--tasks", "300", "--alone", "100",
                   "--rpc-secs", "0.5")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert re.fullmatch(r"bench-dispatch tasks_per_s=\d+ rpc_per_s=\d+ ratio=[\d.]+ "
                        r"latency_ms_p50=[\d.]+ latency_ms_p99=[\d.]+", lines[-1]), lines[-1]
    assert any("the inserters alone" in line for line in lines)
    assert "warnings" not in run.stdout
