"""The site's /metrics: who reads it, what it counts, and its address list in website.yml."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from stechec.common import config
from stechec.www import siteconfig
from tests.conftest import metric_sum

from .conftest import client_for

pytestmark = pytest.mark.django_db


def _samples(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples}


def test_staff_read_request_durations_by_view_name_not_path(client, staff, alice):
    reader = client_for(client, staff)
    before = _samples(reader.get("/metrics"))
    for path in ("/", "/matches/", "/no-such-page/", "/matches/12345/"):
        reader.get(path)

    after = _samples(reader.get("/metrics"))

    def count(view):
        name = "stechec_www_request_seconds_count"
        return after.get((name, (("view", view),)), 0) - before.get((name, (("view", view),)), 0)
    assert count("home") == 1
    assert count("match-list") == 1
    # A missing match is the match page's view, whatever its number.
    assert count("match-detail") == 1
    assert count("unresolved") == 1
    assert not any("12345" in str(labels) for _, labels in after)


def test_players_and_visitors_are_refused(client, alice):
    assert client.get("/metrics").status_code == 403
    assert client_for(client, alice).get("/metrics").status_code == 403


def test_allowed_addresses_read_without_an_account(client, site):
    site["website"]["metrics_allowed_from"] = ["10.1.0.0/16", "::1"]
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    samples = _samples(client.get("/metrics", REMOTE_ADDR="10.1.2.3"))
    assert metric_sum(samples, "stechec_www_request_seconds_count") >= 1
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    # Behind nginx: the address it appended last, not what the client claims before it.
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1",
                      HTTP_X_FORWARDED_FOR="10.1.2.3, 192.0.2.7").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1",
                      HTTP_X_FORWARDED_FOR="192.0.2.7, 10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1",
                      HTTP_X_FORWARDED_FOR="garbage").status_code == 403


@pytest.mark.parametrize("entry", ["10.0.0.300/8", "localhost", "10.0.0.1/8"])
def test_a_wrong_network_is_one_line_naming_the_key(tmp_path, entry):
    yml = tmp_path / "website.yml"
    yml.write_text("website:\n  secret_key: x\n  debug: true\n"
                   f"  metrics_allowed_from: [{entry}]\n"
                   "sql:\n  engine: sqlite\n  database: x\nmaster:\n  shared_secret: x\ncontest:\n  game: tictactoe\n"
                   f"  directory: {tmp_path}\n")
    with pytest.raises(config.ConfigError) as error:
        siteconfig.load(str(yml))
    assert str(error.value) == (f"{yml}: website.metrics_allowed_from: {entry!r} is not an "
                                "address or a network such as 10.0.0.0/8")
