"""What a hostile input must not change: the database's rows and the shared directory.

`ClusterState` reads a LocalCluster's database directly (sqlite3 or
psycopg2, never through the site) and lists its shared directory, so that a
batch of refused inputs can be checked to have left both exactly as they were.
"""

import os
import sqlite3

# Rewritten by every page view of a logged-in user: not state a hostile input could change;
# and the failed sign-ins, which a refused sign-in records by design (website.sign_in_failures).
VOLATILE_TABLES = {"django_session", "stechec_signinfailure"}


class ClusterState:
    def __init__(self, cluster):
        self.cluster = cluster

    def _connect(self):
        sql = self.cluster.sql
        if sql["engine"] == "sqlite":
            return sqlite3.connect(sql["database"], timeout=30)
        import psycopg2
        return psycopg2.connect(host=sql["host"], port=sql["port"], user=sql["user"],
                                password=sql["password"], dbname=sql["database"],
                                connect_timeout=30)

    def query(self, statement, parameters=()):
        """Rows of one query; `%s` placeholders on either engine."""
        connection = self._connect()
        try:
            cursor = connection.cursor()
            if self.cluster.sql["engine"] == "sqlite":
                statement = statement.replace("%s", "?")
            cursor.execute(statement, parameters)
            return cursor.fetchall()
        finally:
            connection.close()

    def tables(self):
        if self.cluster.sql["engine"] == "sqlite":
            rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            rows = self.query("SELECT table_name FROM information_schema.tables "
                              "WHERE table_schema = 'public'")
        return sorted(name for (name,) in rows if name not in VOLATILE_TABLES)

    def database(self):
        """Every row of every table, as text, table by table (SQLite's id counters of the
        volatile tables apart)."""
        snapshot = {table: sorted(repr(row) for row in self.query(f'SELECT * FROM "{table}"'))
                    for table in self.tables()}
        if "sqlite_sequence" in snapshot:
            snapshot["sqlite_sequence"] = sorted(
                repr(row) for row in self.query("SELECT * FROM sqlite_sequence")
                if row[0] not in VOLATILE_TABLES)
        return snapshot

    def shared_files(self):
        """Path, size and modification time of everything under the shared directory."""
        listing = {}
        for directory, _, names in os.walk(self.cluster.shared_dir):
            for name in names:
                path = os.path.join(directory, name)
                try:
                    stat = os.lstat(path)
                except FileNotFoundError:
                    continue
                listing[os.path.relpath(path, self.cluster.shared_dir)] = (
                    stat.st_size, stat.st_mtime_ns)
        return listing

    def snapshot(self):
        return {"database": self.database(), "shared": self.shared_files()}

    def count(self, table, **where):
        clause = " AND ".join(f'"{column}" = %s' for column in where) or "1 = 1"
        return self.query(f'SELECT COUNT(*) FROM "{table}" WHERE {clause}',
                          tuple(where.values()))[0][0]


def differences(before, after):
    """Lines naming what changed between two snapshots (empty when nothing did)."""
    lines = []
    for table in sorted(set(before["database"]) | set(after["database"])):
        old, new = before["database"].get(table, []), after["database"].get(table, [])
        if old != new:
            added = sorted(set(new) - set(old))[:3]
            removed = sorted(set(old) - set(new))[:3]
            lines.append(f"table {table} changed: added {added}, removed {removed}")
    for path in sorted(set(before["shared"]) | set(after["shared"])):
        if before["shared"].get(path) != after["shared"].get(path):
            lines.append(f"shared file {path} changed")
    return lines
