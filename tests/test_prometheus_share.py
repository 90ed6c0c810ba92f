"""share/prometheus/: the scrape configuration and alert rules load in Debian's
Prometheus (promtool), and every metric they or the Grafana dashboard use is one the
daemons (and the webhook sender) export."""

import json
import re
import subprocess
from pathlib import Path

from stechec.contest import webhook_metrics
from stechec.master_node import metrics as master_metrics
from stechec.worker_node import metrics as worker_metrics
from stechec.www.contest import metrics as site_metrics
from tests.conftest import ROOT, require_tool

SHARE = Path(ROOT) / "share" / "prometheus"
# Series Prometheus makes itself, not the daemons.
PROMETHEUS_OWN = {"up"}


def test_promtool_accepts_the_rules_and_the_scrape_configuration():
    require_tool("promtool", "Debian's prometheus package checks share/prometheus/")
    for command in (["check", "rules", "stechec-alerts.yml"], ["check", "config",
                                                                "prometheus.yml"]):
        run = subprocess.run(["promtool", *command], cwd=SHARE, capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr


def test_the_rules_and_the_dashboard_use_only_exported_metrics():
    rules = (SHARE / "stechec-alerts.yml").read_text()
    dashboard = json.loads((SHARE / "grafana-dashboard.json").read_text())
    expressions = [rules] + [target["expr"] for panel in dashboard["panels"]
                             for target in panel["targets"]]
    used = {name for expr in expressions
            for name in re.findall(r"\b(stechec_\w+|up)\b(?=[\s{\[)]|$)", expr)}
    assert used - PROMETHEUS_OWN, "no metric found: the pattern is wrong"
    assert sorted(used - PROMETHEUS_OWN - exported()) == []


def exported():
    """Every sample name the master's, the worker's, the site's and the webhook sender's
    metrics modules define."""
    families = (master_metrics.QueueCollector(None).describe()
                + webhook_metrics.QueueCollector().describe())
    for module in (master_metrics, worker_metrics, site_metrics, webhook_metrics):
        for metric in vars(module).values():
            if hasattr(metric, "collect") and hasattr(metric, "_name"):
                families += metric.collect()
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
    return {family.name + suffix for family in families
            for suffix in suffixes.get(family.type, [""])}
