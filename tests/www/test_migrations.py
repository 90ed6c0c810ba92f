"""The committed migrations match the models: two branches that each add a
migration (or a model change without one) fail here, not on an operator's
`stechec-manage migrate`."""

import io

import pytest
from django.core.management import call_command
from django.db.migrations.loader import MigrationLoader

pytestmark = pytest.mark.django_db


def test_no_model_change_lacks_a_migration():
    out = io.StringIO()
    try:
        call_command("makemigrations", "stechec", "--check", "--dry-run", stdout=out)
    except SystemExit:
        pytest.fail(f"a model change has no migration:\n{out.getvalue()}")


def test_the_migrations_form_one_line():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    assert loader.detect_conflicts() == {}
    leaves = loader.graph.leaf_nodes("stechec")
    assert len(leaves) == 1, leaves
