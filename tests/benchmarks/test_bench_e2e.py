"""tools/bench-e2e runs to its last line (a few matches; its figures are not checked), on
the bundled game and on the upstream engine."""

import re

import pytest

from tests.conftest import require_root, require_tool, run_tool
from tests.stechec2.conftest import engine  # noqa: F401

LAST_LINE = re.compile(r"bench-e2e matches=4 cluster_s=[\d.]+ direct_s=[\d.]+ ratio=[\d.]+")


def bench_e2e(*args):
    """bench-e2e's output lines, at the smallest size, once it exited 0."""
    require_root("the benchmark's workers run their programs under sandbox user ids")
    require_tool("bwrap", "the benchmark measures the sandbox as deployed")
    run = run_tool("bench-e2e", "--matches", "4", "--workers", "1", "--cores", "1", *args)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout.splitlines()


@pytest.mark.slow
def test_bench_e2e_prints_its_figures():
    lines = bench_e2e("--champions", "c-good,python-random")
    assert "bench-e2e: 2 samples compiled" in "\n".join(lines)
    assert LAST_LINE.fullmatch(lines[-1]), lines[-1]


@pytest.mark.slow
def test_bench_e2e_on_the_engine_prints_its_figures(engine):  # noqa: F811
    lines = bench_e2e("--engine", str(engine.prefix), "--game", "tictactoe",
                      "--champions", "c-first,python-center")
    assert f"bench-e2e: tictactoe on the engine in {engine.prefix};" in "\n".join(lines)
    assert "bench-e2e: 2 samples compiled" in "\n".join(lines)
    assert LAST_LINE.fullmatch(lines[-1]), lines[-1]
