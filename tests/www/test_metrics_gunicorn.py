"""The site's /metrics under gunicorn with the sample configuration: every worker
process's requests in one answer (prometheus_client's multiprocess mode), kept when
gunicorn replaces its processes."""

import os
import signal

from stechec.common import share
from tests.conftest import scrape, wait_for
from tests.www.test_health import Gunicorn, manage, site_env

CONF = os.path.join(share.share_dir(), "gunicorn", "gunicorn.conf.py")


def test_the_processes_figures_add_up_and_outlive_them(tmp_path):
    env = site_env(tmp_path, {"engine": "sqlite", "database": str(tmp_path / "db.sqlite3")},
                   metrics_allowed_from=["127.0.0.1/32"])
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # Where the configuration makes its metrics directory.
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env["TMPDIR"] = str(temporary)
    assert manage(env, "migrate").returncode == 0
    gunicorn = Gunicorn(env, tmp_path, "--config", CONF, "--workers", "2")
    try:
        wait_for(lambda: gunicorn.get("/health"), "the site to answer")
        for _ in range(10):
            assert gunicorn.get("/health") == (200, "ok\n")
        url = f"http://127.0.0.1:{gunicorn.port}/metrics"

        def health_requests():
            return scrape(url)["stechec_www_request_seconds_count", (("view", "health"),)]
        served = health_requests()
        assert served >= 11

        # New processes for old (a reload): the old ones' requests still count.
        gunicorn.process.send_signal(signal.SIGHUP)
        wait_for(lambda: gunicorn.log.read_text().count("Booting worker") >= 4,
                 "gunicorn to start new worker processes")
        wait_for(lambda: gunicorn.log.read_text().count("Worker exiting") >= 2,
                 "the old processes to exit")
        assert health_requests() == served
        assert len(list(temporary.iterdir())) == 1
    finally:
        gunicorn.stop()
    # Its metrics directory went with it.
    assert list(temporary.iterdir()) == []
