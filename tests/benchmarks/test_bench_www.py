"""tools/bench-www runs to its last line (tiny sizes; its figures are not checked), so that a
schema change its fill does not follow fails here rather than on the next real run."""

import os
import re

import pytest

from tests.conftest import run_tool


@pytest.mark.db
def test_bench_www_prints_its_figures():
    if os.environ.get("STECHEC_TEST_DB") != "postgresql":
        pytest.skip("the benchmark needs PostgreSQL (this runs in the PostgreSQL pass)")
    run = run_tool("bench-www", "--users", "50", "--champions", "100", "--matches", "300",
                   "--requests", "3", "--warmup", "1", "--workers", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert "bench-www: filled 50 users, 100 champions, 300 matches, 1200 match players" \
        in run.stdout
    assert re.fullmatch(r"bench-www median_ms=[\d.]+ p95_ms=[\d.]+ pages=7", lines[-1]), \
        lines[-1]
