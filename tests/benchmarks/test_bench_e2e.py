"""tools/bench-e2e runs to its last line (a few matches; its figures are not checked)."""

import re

import pytest

from tests.conftest import require_root, require_tool, run_tool


@pytest.mark.slow
def test_bench_e2e_prints_its_figures():
    require_root("the benchmark's workers run their programs under sandbox user ids")
    require_tool("bwrap", "the benchmark measures the sandbox as deployed")
    run = run_tool("bench-e2e", "--matches", "4", "--workers", "1", "--cores", "1",
                   "--champions", "c-good,python-random")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert "bench-e2e: 2 samples compiled" in run.stdout
    assert re.fullmatch(r"bench-e2e matches=4 cluster_s=[\d.]+ direct_s=[\d.]+ ratio=[\d.]+",
                        lines[-1]), lines[-1]
