"""A database made before the models moved to stechec/contest/ carries on, unchanged.

data/old-layout-<engine>.sql are dumps (sqlite3 .dump; pg_dump --inserts
--no-owner --no-privileges) of a database that the site of commit 437564f,
whose models were stechec.www.contest's, migrated to stechec 0007 and filled
with a few rows: users, two champions, a map, a done tournament match and
its applied result. The app label stayed `stechec`, so the site and the
master read it as it is: nothing to migrate, no model change without a
migration, every row there.
"""

import os
import subprocess
import sys
import textwrap

import psycopg2
import pytest

from tests import settings as test_settings

pytestmark = pytest.mark.db

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


@pytest.fixture
def old_database(tmp_path):
    """The `sql:` block of a website.yml for a throwaway copy of the old-layout database."""
    with open(os.path.join(DATA, f"old-layout-{test_settings.ENGINE}.sql")) as f:
        dump = f.read()
    if test_settings.ENGINE == "sqlite":
        import sqlite3

        path = tmp_path / "old.sqlite3"
        with sqlite3.connect(path) as db:
            db.executescript(dump)
        yield f"  engine: sqlite\n  database: {path}"
        return
    pg = test_settings.PG
    name = f"test_stechec_old_layout_{test_settings.RUN_ID}"
    admin = psycopg2.connect(dbname="postgres", **pg)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg2.connect(dbname=name, **pg) as db, db.cursor() as cursor:
            cursor.execute(dump)
        db.close()
        yield (f"  engine: postgresql\n  host: {pg['host']}\n  port: {pg['port']}\n"
               f"  user: {pg['user']}\n  password: \"{pg['password']}\"\n  database: {name}")
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def manage(tmp_path, sql, *args):
    """Run `stechec-manage ARGS` on the database `sql`, as an operator would; its result."""
    head, _, tail = test_settings.WEBSITE_YML.partition("\nsql:")
    rest = tail[tail.index("\nmaster:"):]
    config = tmp_path / "website.yml"
    config.write_text(f"{head}\nsql:\n{sql}{rest}")
    env = dict(os.environ, STECHEC_WEBSITE_CONFIG=str(config),
               DJANGO_SETTINGS_MODULE="stechec.www.settings")
    return subprocess.run([sys.executable, "-m", "stechec.www.manage", *args], env=env,
                          capture_output=True, text=True, timeout=300)


# The last migration the old-layout dumps were migrated to; later ones are new changes.
OLD_LAYOUT_MIGRATION = "0007_applied_results"


def test_a_database_of_the_old_layout_needs_no_migration(tmp_path, old_database):
    check = manage(tmp_path, old_database, "migrate", "stechec", OLD_LAYOUT_MIGRATION, "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    migrate = manage(tmp_path, old_database, "migrate", "stechec", OLD_LAYOUT_MIGRATION)
    assert migrate.returncode == 0, migrate.stderr
    assert "No migrations to apply." in migrate.stdout
    # Migrations made since apply to it as to any database.
    assert manage(tmp_path, old_database, "migrate").returncode == 0
    changes = manage(tmp_path, old_database, "makemigrations", "--check", "--dry-run")
    assert changes.returncode == 0, changes.stdout + changes.stderr


def test_the_old_layouts_rows_read_through_the_contest_models(tmp_path, old_database):
    # Migrated to the newest migration first, as an operator upgrading does.
    assert manage(tmp_path, old_database, "migrate").returncode == 0
    script = textwrap.dedent("""\
        from stechec.contest.models import AppliedResult, Champion, Match, TournamentPlayer
        match = Match.objects.get()
        print(sorted(Champion.objects.values_list("name", "author__username", "status")))
        print(match.status, match.map.name, match.tournament.name,
              [(p.champion.name, p.score) for p in match.players.all()])
        print(list(TournamentPlayer.objects.order_by("rank").values_list("champion__name",
                                                                        "score")))
        print(list(AppliedResult.objects.values_list("kind", "task_id", "status")) ==
              [("match", match.id, "done")])
        """)
    shell = manage(tmp_path, old_database, "shell", "--no-imports", "-c", script)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.splitlines() == [
        "[('alpha', 'alice', 'ready'), ('beta', 'bob', 'ready')]",
        "done plain cup [('alpha', 3), ('beta', 1)]",
        "[('alpha', 2), ('beta', 0)]",
        "True",
    ]
