"""The whole cluster (site, master, a worker) on the upstream stechec2 engine, through
HTTP only: champions packed with `make tar` are uploaded through the site, compile,
and play matches whose scores and timeouts, as the match page shows them, equal a
direct run of the engine with the same champions."""

import re

import pytest

from tests.e2e.client import PlayerSession, form_errors, match_seats
from tests.e2e.conftest import password_of, running_cluster
from tests.e2e.test_players import wait_until_done, wait_until_ready
from tests.stechec2.conftest import GAME, direct_match, pack

# The test itself only talks HTTP; the marker has the test database made for the
# cluster (transactional: no transaction of the test's own holds SQLite's lock).
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PAIRS = [("c-first", "cxx-last"), ("python-center", "c-first")]


@pytest.fixture(scope="module")
def engine_cluster(engine, django_db_setup, django_db_blocker, tmp_path_factory):
    with running_cluster(django_db_blocker, tmp_path_factory.mktemp("cluster"), workers=1,
                         game=GAME, worker_settings={"paths": engine.worker_paths(),
                                                     "match": {"dump": False}}) as local:
        yield local


def upload(player, name, archive):
    """Upload `archive` as champion `name`; its id."""
    response = player.post("/champions/new/", {"name": name, "comment": "stechec2"},
                           {"sources": (f"{name}.tgz", archive)})
    found = re.search(r"/champions/(\d+)/$", response.url)
    assert response.status == 200 and found, form_errors(response.body)
    return int(found.group(1))


def test_champions_uploaded_through_the_site_play_as_the_engine_does(engine, engine_cluster,
                                                                     tmp_path):
    alice = PlayerSession(engine_cluster.url)
    alice.log_in("alice", password_of("alice"))
    archives = {name: pack(engine, name) for name in ("c-first", "cxx-last",
                                                                 "python-center")}
    ids = {name: upload(alice, name, archive) for name, archive in archives.items()}
    wait_until_ready(engine_cluster, alice, ids.values())
    launched = {alice.launch_match(*(ids[name] for name in pair)): pair for pair in PAIRS}
    pages = wait_until_done(engine_cluster, alice, list(launched))
    for number, (match_id, pair) in enumerate(launched.items()):
        seats = match_seats(pages[match_id])
        assert [s.champion_id for s in seats] == [ids[name] for name in pair]
        direct = direct_match(engine, tmp_path / f"direct-{number}",
                              [archives[name] for name in pair])
        assert [(s.score, s.timeouts) for s in seats] == direct, (pair, seats)
