"""tools/run-local --engine: the local cluster on the upstream engine, its sample champions
seeded and playing as soon as it serves, as the engine plays them directly."""

import re

import pytest

from stechec.local.cluster import free_port
from tests.conftest import wait_for
from tests.e2e.client import PlayerSession, match_seats, status_of
from tests.e2e.test_run_local import master_port, run_local  # noqa: F401
from tests.stechec2.conftest import direct_match, pack

pytestmark = pytest.mark.slow
SEEDED = re.compile(r'<a href="/champions/(\d+)/">([^<]+)</a>')


def test_run_local_on_the_engine_plays_its_seeded_samples(engine, run_local, tmp_path):  # noqa: F811
    site_port = free_port()
    run = run_local("var", site_port, master_port(), "--engine", str(engine.prefix),
                    "--game", "tictactoe", "--workers", "1", "--slots", "3")
    run.wait_serving()
    assert f"tictactoe on the stechec2 engine in {engine.prefix}" in run.output()
    assert "loaded 0 maps and 3 sample champions of tictactoe" in run.output()
    alice = PlayerSession(f"http://127.0.0.1:{site_port}/")
    alice.log_in("alice", run.accounts()["alice"])
    ids = {name: int(pk) for pk, name in SEEDED.findall(alice.get("/champions/").body)}
    pair = ("c-first", "cxx-last")

    def ready():
        statuses = [status_of(alice.get(f"/champions/{ids[name]}/").body, "champion-status")
                    for name in pair]
        assert not {"error", "failed"} & set(statuses), statuses
        return statuses == ["ready", "ready"]
    wait_for(ready, "the seeded samples to compile", timeout=300)
    match_id = alice.launch_match(*(ids[name] for name in pair))

    def done():
        page = alice.get(f"/matches/{match_id}/").body
        status = status_of(page, "match-status")
        assert status != "failed", page
        return page if status == "done" else None
    page = wait_for(done, "the match to be played", timeout=300)
    run.interrupt()
    run.wait_gone()

    seats = match_seats(page)
    direct = direct_match(engine, tmp_path / "direct", [pack(engine, name)
                                                        for name in pair])
    assert [(s.score, s.timeouts) for s in seats] == direct
