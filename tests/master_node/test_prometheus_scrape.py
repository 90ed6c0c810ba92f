"""A real Prometheus server (Debian's package) scrapes a running master on loopback and
answers for its metrics through its HTTP API, with the alert rules of share/prometheus/
loaded."""

import urllib.parse

from tests.conftest import query, wait_for

from .conftest import new_champions


def test_prometheus_scrapes_the_master_and_evaluates_the_rules(cluster, player, prometheus):
    master = cluster.start_master(metrics=True)
    new_champions(player, 3)
    target = urllib.parse.urlsplit(master.metrics_url).netloc
    base = prometheus([target], "stechec-master")

    waiting = wait_for(lambda: query(base, 'stechec_master_tasks_waiting{kind="compile"}'),
                       "Prometheus to scrape the master")
    assert [float(sample["value"][1]) for sample in waiting] == [3]
    # No worker: the rule's condition holds (pending for its minute).
    alerts = wait_for(lambda: query(base, 'ALERTS{alertname="StechecNoWorker"}'),
                      "the no-worker rule to fire")
    assert alerts[0]["metric"]["alertstate"] in ("pending", "firing")
