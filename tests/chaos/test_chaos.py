"""The short chaos campaign (tools/chaos --short) on the real cluster: nothing lost,
doubled, stuck or left behind."""

import glob
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import require_root, require_tool

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
# The short campaign takes a few minutes on a quiet machine; a loaded one may need several
# times that to launch its matches, inject its faults and drain: it is not cut short.
TIME_LIMIT_SECS = 1500
SUMMARY = re.compile(r"^chaos matches=(\d+) faults=(\d+) lost=(\d+) doubled=(\d+) "
                     r"stuck=(\d+) orphans=(\d+)$")


@pytest.mark.netns
@pytest.mark.slow
@pytest.mark.timeout(TIME_LIMIT_SECS + 300)
def test_short_campaign_loses_doubles_and_leaves_nothing():
    require_root("network namespaces, sandbox user ids, a private PostgreSQL")
    require_tool("ip", "a worker in a network namespace")
    require_tool("pg_ctl", "a private PostgreSQL to restart",
                 search_path=os.pathsep.join(glob.glob("/usr/lib/postgresql/*/bin")))
    run = subprocess.Popen([sys.executable, "-m", "devtools.chaos", "--short", "--seed",
                            "8", "--time-limit", str(TIME_LIMIT_SECS)], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = run.communicate(timeout=TIME_LIMIT_SECS + 120)
    except subprocess.TimeoutExpired:
        # SIGTERM lets it stop the cluster, its PostgreSQL and its namespace.
        run.terminate()
        stdout, stderr = run.communicate(timeout=120)
    lines = stdout.strip().splitlines()
    found = SUMMARY.match(lines[-1]) if lines else None
    assert found, f"no summary line; stdout ends:\n{stdout[-3000:]}\n{stderr[-3000:]}"
    matches, faults, lost, doubled, stuck, orphans = map(int, found.groups())
    report = "\n".join(line for line in lines if line.startswith("chaos"))
    assert matches >= 100 and faults >= 5, report
    assert (lost, doubled, stuck, orphans) == (0, 0, 0, 0), report
    assert run.returncode == 0, report
