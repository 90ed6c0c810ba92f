"""On PostgreSQL, the database itself NOTIFYs the master whenever a task becomes `new`.

Whoever makes the row `new` (the site, the admin, a script, the master
putting an attempt back) wakes the master at commit, with no statement of
its own to remember; a transaction that rolls back notifies nothing. On
SQLite the master polls.
"""

from django.db import migrations

from stechec.common.database import NOTIFY_CHANNEL

FUNCTION = "stechec_notify_new_task"
TABLES = ("champion", "match")


def _tables(apps):
    return [apps.get_model("stechec", model)._meta.db_table for model in TABLES]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{NOTIFY_CHANNEL}', ''); RETURN NULL; END $$")
    for table in _tables(apps):
        schema_editor.execute(
            f"CREATE TRIGGER {table}_notify_new AFTER INSERT OR UPDATE OF status ON {table} "
            f"FOR EACH ROW WHEN (NEW.status = 'new') EXECUTE FUNCTION {FUNCTION}()")


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in _tables(apps):
        schema_editor.execute(f"DROP TRIGGER {table}_notify_new ON {table}")
    schema_editor.execute(f"DROP FUNCTION {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [("stechec", "0002_tournaments_ratings_ladder")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
