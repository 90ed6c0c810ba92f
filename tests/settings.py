"""Settings for the test suite: website.yml made here, on SQLite or PostgreSQL.

STECHEC_TEST_DB picks the database (`sqlite`, the default, or `postgresql`:
127.0.0.1:5432 as user postgres, or STECHEC_TEST_PG_* to change that). Each
run gets its own throwaway database and shared directory.
"""

import os
import tempfile

from stechec.common import config
from stechec.www import siteconfig

ENGINE = os.environ.get("STECHEC_TEST_DB", "sqlite")
RUN_ID = os.environ.setdefault("STECHEC_TEST_RUN_ID", str(os.getpid()))
ROOT = os.environ.setdefault("STECHEC_TEST_ROOT", tempfile.mkdtemp(prefix="stechec-test-"))
PG = {
    "host": os.environ.get("STECHEC_TEST_PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("STECHEC_TEST_PG_PORT", "5432")),
    "user": os.environ.get("STECHEC_TEST_PG_USER", "postgres"),
    "password": os.environ.get("STECHEC_TEST_PG_PASSWORD", ""),
}

_SQL = {
    "sqlite": f"""
  engine: sqlite
  database: {ROOT}/site.sqlite3""",
    "postgresql": f"""
  engine: postgresql
  host: {PG['host']}
  port: {PG['port']}
  user: {PG['user']}
  password: "{PG['password']}"
  database: stechec""",
}[ENGINE]

WEBSITE_YML = f"""
website:
  secret_key: test-secret-key-not-for-production
  debug: false
  static_root: {ROOT}/static
  allowed_hosts: ["*"]
sql:{_SQL}
master:
  host: 127.0.0.1
  port: 1
  shared_secret: test-shared-secret
  timeout_secs: 1.0
contest:
  game: tictactoe
  nb_players: 2
  directory: {ROOT}/shared
"""

SITE = config.parse(WEBSITE_YML, "tests/settings.py", siteconfig.WEBSITE_SCHEMA,
                    debug_key="website.debug")
globals().update(siteconfig.django_settings(SITE))

# A database of its own per run: SQLite in a file (so that master and worker
# processes started by a test see it), PostgreSQL under a name of its own.
DATABASES["default"]["TEST"] = {  # noqa: F821 (set by django_settings)
    "NAME": f"{ROOT}/test.sqlite3" if ENGINE == "sqlite" else f"test_stechec_{RUN_ID}",
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
