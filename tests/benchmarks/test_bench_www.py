"""tools/bench-www runs to its last line (tiny sizes; its figures are not checked), so that a
schema change its fill does not follow fails here rather than on the next real run."""

import importlib.machinery
import importlib.util
import os
import re

import pytest

from tests.conftest import ROOT, run_tool


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
    assert re.fullmatch(r"bench-www median_ms=[\d.]+ p95_ms=[\d.]+ pages=\d+", lines[-1]), \
        lines[-1]


def load_bench_www():
    """tools/bench-www as a module (its name has no .py)."""
    path = os.path.join(ROOT, "tools", "bench-www")
    loader = importlib.machinery.SourceFileLoader("bench_www", path)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("bench_www", loader))
    loader.exec_module(module)
    return module


@pytest.mark.parametrize(("row", "message"), [
    # A column with no default that the fill does not set: named, before any COPY.
    ({"id": 1, "author_id": 1, "ts": "2026-01-01 00:00:00+00"},
     "bench-www: stechec_champion.name has no default: give it a value in fill()"),
    ({"id": 1, "nmae": "typo"}, "bench-www: stechec_champion has no column nmae"),
])
def test_a_fill_that_does_not_match_the_schema_stops_naming_the_column(row, message):
    from stechec.contest.models import Champion

    with pytest.raises(SystemExit) as stopped:
        load_bench_www().copy(cursor=None, model=Champion, rows=[row])
    assert str(stopped.value) == message
