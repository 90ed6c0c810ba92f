"""A real Prometheus server (Debian's package) scrapes a running master on loopback and
answers for its metrics through its HTTP API, with the alert rules of share/prometheus/
loaded."""

import json
import os
import shutil
import socket
import subprocess
import urllib.parse
import urllib.request

import pytest

from tests.conftest import ROOT, require_tool, wait_for

from .conftest import new_champions


@pytest.fixture
def prometheus(tmp_path):
    """start(targets) -> the base URL of a Prometheus scraping `targets` every second."""
    require_tool("prometheus", "Debian's prometheus package scrapes the cluster")
    started = []

    def start(targets):
        shutil.copy(os.path.join(ROOT, "share", "prometheus", "stechec-alerts.yml"), tmp_path)
        (tmp_path / "prometheus.yml").write_text(json.dumps({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": ["stechec-alerts.yml"],
            "scrape_configs": [{"job_name": "stechec-master",
                                "static_configs": [{"targets": targets}]}]}))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with open(tmp_path / "prometheus.log", "wb") as log:
            started.append(subprocess.Popen(
                ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                 f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{port}"], stdout=log,
                stderr=subprocess.STDOUT))
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.kill()
        process.wait()


def query(base, expr):
    """The instant vector `expr` evaluates to, [] while Prometheus is not up."""
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read())["data"]["result"]
    except OSError:
        return []


def test_prometheus_scrapes_the_master_and_evaluates_the_rules(cluster, player, prometheus):
    master = cluster.start_master(metrics=True)
    new_champions(player, 3)
    target = urllib.parse.urlsplit(master.metrics_url).netloc
    base = prometheus([target])

    waiting = wait_for(lambda: query(base, 'stechec_master_tasks_waiting{kind="compile"}'),
                       "Prometheus to scrape the master")
    assert [float(sample["value"][1]) for sample in waiting] == [3]
    # No worker: the rule's condition holds (pending for its minute).
    alerts = wait_for(lambda: query(base, 'ALERTS{alertname="StechecNoWorker"}'),
                      "the no-worker rule to fire")
    assert alerts[0]["metric"]["alertstate"] in ("pending", "firing")
