"""A child's contactpoint ID is its own unique column; the migration folds the table of
issued IDs into it, and refuses a registry with an ID issued to no child (ADR 0013)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor

from contactpoint.registry.models import Child
from tests.support.children import load_children

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("registry", "0013_blind_index_entries_keyed")]


def tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def cpids() -> dict[object, str]:
    return dict(Child.objects.values_list("id", "cpid"))


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_a_child_s_contactpoint_id_cannot_be_given_to_another(feeds: Path) -> None:
    amelia = load_children(feeds)["amelia"]
    assert "registry_issuedcpid" not in tables()
    with pytest.raises(IntegrityError):
        Child.objects.create(cpid=amelia.cpid)


def test_the_migration_keeps_every_child_s_contactpoint_id(feeds: Path) -> None:
    load_children(feeds)
    before = cpids()

    MigrationExecutor(connection).migrate(BEFORE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT cpid FROM registry_issuedcpid")
        assert {c for (c,) in cursor.fetchall()} == set(before.values())
    migrate_to_latest()

    assert "registry_issuedcpid" not in tables()
    assert cpids() == before


def test_the_migration_refuses_an_id_issued_to_no_child(feeds: Path) -> None:
    load_children(feeds)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    old.get_model("registry", "IssuedCpid").objects.create(cpid="CP-LOST-1")

    with pytest.raises(RuntimeError, match="issued to no child"):
        migrate_to_latest()
    old.get_model("registry", "IssuedCpid").objects.filter(cpid="CP-LOST-1").delete()
    migrate_to_latest()
    assert "registry_issuedcpid" not in tables()
