"""The statements written out by hand name only tables and columns the models have.

They are plain text beside the code that runs them (stechec.contest.transitions,
stechec.master_node.queue), every column qualified by its table; a renamed
field or table fails here rather than in the master at its first claim.
"""

import re

import pytest
from django.apps import apps

from stechec.common.tasks import Kind
from stechec.contest import transitions
from stechec.master_node import queue

STATEMENTS = {
    "queue.NEW_TASKS_SQL": queue.NEW_TASKS_SQL,
    "queue.NEW_MATCH_PLAYERS_SQL": queue.NEW_MATCH_PLAYERS_SQL,
    "queue.DUE_TASKS_SQL": queue.DUE_TASKS_SQL,
    "transitions.MARK_PENDING_SQL[compile]": transitions.MARK_PENDING_SQL[Kind.COMPILE],
    "transitions.MARK_PENDING_SQL[match]": transitions.MARK_PENDING_SQL[Kind.MATCH],
    "transitions.APPLY_COMPILATIONS_SQL": transitions.APPLY_COMPILATIONS_SQL,
    "transitions.RECORD_APPLIED_SQL": transitions.RECORD_APPLIED_SQL,
}


def columns_by_table():
    return {model._meta.db_table: {field.column for field in model._meta.concrete_fields}
            for model in apps.get_models()}


def references(sql):
    """(table, column) of every `table.column` of `sql`, and of every column it SETs or
    INSERTs."""
    found = set(re.findall(r"\b([a-z_]+)\.([a-z_]+)\b", sql))
    inserted = re.match(r"INSERT INTO (\w+) \((.*?)\)", sql)
    if inserted:
        table, columns = inserted.groups()
        found |= {(table, column) for column in columns.split(", ")}
    updated = re.match(r"UPDATE (\w+) SET (.*?) WHERE", sql, re.S)
    if updated:
        table, assignments = updated.groups()
        found |= {(table, column) for column in re.findall(r"(?:^|, )(\w+) = ",
                                                            assignments)}
    return found


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_a_statement_names_only_the_models_columns(name):
    known = columns_by_table()
    named = references(STATEMENTS[name])
    assert named, "no table.column found: the statement does not qualify its columns"
    assert sorted(f"{table}.{column}" for table, column in named
                  if column not in known.get(table, ())) == []


def test_the_tables_named_are_the_models():
    """What the statements take for each model's table (the user model is Django's)."""
    tables = columns_by_table()
    for table in ("stechec_champion", "stechec_match", "stechec_matchplayer", "stechec_map",
                  "stechec_appliedresult", "auth_user"):
        assert table in tables


def test_a_column_the_models_lack_is_caught():
    assert ("stechec_champion", "not_a_column") in references(
        "UPDATE stechec_champion SET not_a_column = 1 WHERE stechec_champion.id = 2")
    assert ("stechec_appliedresult", "not_a_column") in references(
        "INSERT INTO stechec_appliedresult (task_id, not_a_column) VALUES (1, 2)")
    assert "not_a_column" not in columns_by_table()["stechec_champion"]
