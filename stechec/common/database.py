"""The `sql` section shared by website.yml and master-node.yml, as Django settings."""

from stechec.common.config import Key

SQL_SCHEMA = {
    "engine": Key(str, "postgresql", choices=("postgresql", "sqlite")),
    "host": Key(str, "localhost"),
    "port": Key(int, 5432),
    "user": Key(str, "stechec"),
    "password": Key(str, ""),
    # The database name on PostgreSQL, the file's path on SQLite.
    "database": Key(str),
}

# Channel the database NOTIFYs on when a task row becomes `new` (a trigger, migration
# 0003 of the contest app); the master LISTENs.
NOTIFY_CHANNEL = "stechec_tasks"
# Channel the database NOTIFYs on when staff record an operator action (migration 0013).
OPERATIONS_CHANNEL = "stechec_operations"


def django_database(sql, *, conn_max_age=0):
    if sql["engine"] == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": sql["database"],
            # Site and master share the file: WAL lets readers run beside the
            # writer, IMMEDIATE transactions take the write lock up front (no
            # deadlocked upgrade), and the timeout makes writers queue instead
            # of failing with "database is locked".
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": sql["database"],
        "USER": sql["user"],
        "PASSWORD": sql["password"],
        "HOST": sql["host"],
        "PORT": sql["port"],
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": conn_max_age != 0,
    }


def error_line(error):
    """A database error in one line for a log or a page: the first line of its message
    (PostgreSQL's run over several, with hints and context), or its type's name when it
    has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
