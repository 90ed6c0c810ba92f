"""A site whose database is unreachable or not migrated refuses to start, `/health` says so
and `stechec-manage check` reports it; the README's commands run without a terminal."""

import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
import yaml
from django.db import connection

from stechec.local.cluster import free_port
from tests.conftest import wait_for
from tests.master_node.pg_relay import PostgresRelay

MANAGE = os.path.join(os.path.dirname(sys.executable), "stechec-manage")


def site_env(tmp_path, sql, **website):
    """The environment of a site configured by a website.yml of its own on `sql`
    (`website`: more keys of its website section)."""
    (tmp_path / "shared").mkdir(exist_ok=True)
    (tmp_path / "static").mkdir(exist_ok=True)
    yml = tmp_path / "website.yml"
    yml.write_text(yaml.safe_dump({
        "website": {"secret_key": "k" * 60, "static_root": str(tmp_path / "static"),
                    **website},
        "sql": sql,
        "master": {"shared_secret": "s"},
        "contest": {"game": "tictactoe", "directory": str(tmp_path / "shared")},
    }))
    return {**os.environ, "STECHEC_WEBSITE_CONFIG": str(yml),
            "DJANGO_SETTINGS_MODULE": "stechec.www.settings"}


def manage(env, *args):
    return subprocess.run([MANAGE, *args], env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


class Gunicorn:
    def __init__(self, env, tmp_path, *options):
        """`options`: gunicorn's (default: one worker process)."""
        self.port = free_port()
        self.log = tmp_path / f"gunicorn-{self.port}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", *(options or ("--workers", "1")),
                 "--bind", f"127.0.0.1:{self.port}", "stechec.www.wsgi:application"],
                env=env, stdout=log, stderr=subprocess.STDOUT)

    def get(self, path):
        """(status, body) of GET `path`, or None while nothing answers."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError:
            assert self.process.poll() is None, self.log.read_text()
            return None

    def stop(self):
        self.process.terminate()
        self.process.wait(60)


def test_an_unmigrated_database_stops_the_site_and_fails_the_deploy_check(tmp_path):
    env = site_env(tmp_path, {"engine": "sqlite", "database": str(tmp_path / "db.sqlite3")})

    gunicorn = Gunicorn(env, tmp_path)
    assert gunicorn.process.wait(120) != 0
    log = gunicorn.log.read_text()
    assert f"website: database {tmp_path}/db.sqlite3 is not migrated: " in log
    assert "run `stechec-manage migrate`" in log
    assert "App failed to load" in log

    check = manage(env, "check", "--deploy", "--database", "default")
    assert check.returncode == 1
    assert "(stechec.E002) database" in check.stderr and "is not migrated" in check.stderr
    # migrate's own checks let it through.
    assert manage(env, "migrate").returncode == 0
    check = manage(env, "check", "--deploy", "--database", "default")
    assert check.returncode == 0 and "stechec.E00" not in check.stderr

    # The README's first account and static files, without a terminal.
    created = manage({**env, "DJANGO_SUPERUSER_PASSWORD": "a long password"},
                     "createsuperuser", "--noinput", "--username", "admin",
                     "--email", "admin@example.org")
    assert created.returncode == 0, created.stderr
    assert manage(env, "collectstatic", "--noinput").returncode == 0

    gunicorn = Gunicorn(env, tmp_path)
    try:
        assert wait_for(lambda: gunicorn.get("/health"), "the site to answer") == (200, "ok\n")
        # Made for the workers, which take no task without it.
        assert (tmp_path / "shared" / "tictactoe").is_dir()
    finally:
        gunicorn.stop()


def test_an_unreachable_database_stops_the_site_and_fails_the_check(tmp_path):
    nothing = {"engine": "postgresql", "host": "127.0.0.1", "port": free_port(),
               "user": "stechec", "password": "x", "database": "stechec"}
    env = site_env(tmp_path, nothing)

    gunicorn = Gunicorn(env, tmp_path)
    assert gunicorn.process.wait(120) != 0
    assert "website: database stechec cannot be reached: " in gunicorn.log.read_text()

    check = manage(env, "check", "--database", "default")
    assert check.returncode == 1
    assert "(stechec.E001) database stechec cannot be reached: " in check.stderr


def test_health_fails_while_the_database_is_gone(transactional_db, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite cannot be made unreachable (this runs in the PostgreSQL pass)")
    settings = connection.settings_dict
    relay = PostgresRelay(settings["HOST"], int(settings["PORT"]))
    env = site_env(tmp_path, {"engine": "postgresql", "host": "127.0.0.1", "port": relay.port,
                              "user": settings["USER"], "password": settings["PASSWORD"],
                              "database": settings["NAME"]})
    gunicorn = Gunicorn(env, tmp_path)
    try:
        assert wait_for(lambda: gunicorn.get("/health"), "the site to answer") == (200, "ok\n")
        relay.cut()
        status, body = gunicorn.get("/health")
        assert status == 503
        assert body.startswith(f"database {settings['NAME']} cannot be reached: ")
    finally:
        relay.close()
        gunicorn.stop()
