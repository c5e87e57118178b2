"""Blind index entries are keyed by (index, value, child), with no surrogate id, and the
migration moves a registry's entries to that table unchanged (ADR 0013)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from contactpoint.registry.candidates import candidate_children
from contactpoint.registry.golden import rebuild_indexes
from contactpoint.registry.models import BlindIndexEntry
from tests.support.children import load_children

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("registry", "0012_compact_payloads")]


def columns() -> list[str]:
    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(
            cursor, "registry_blindindexentry"
        )
    return [c.name for c in described]


def entries() -> set[tuple[object, int, int]]:
    return set(BlindIndexEntry.objects.values_list("child_id", "index", "value"))


def test_a_rebuild_deletes_only_the_entries_no_fact_gives(feeds: Path) -> None:
    amelia = load_children(feeds)["amelia"]
    before = entries()
    stale = BlindIndexEntry.objects.create(child=amelia, index=1, value=12345)
    assert stale.pk == (1, 12345, amelia.pk) and "id" not in columns()

    rebuild_indexes([amelia.pk])

    assert entries() == before


def test_the_migration_keeps_every_entry_and_blocking_finds_the_same_children(
    feeds: Path,
) -> None:
    load_children(feeds)
    before = entries()
    wanted = [{(index, value)} for _, index, value in sorted(before, key=str)]
    found = candidate_children(wanted)

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    assert "id" in columns()  # the surrogate id, as before the change
    with connection.cursor() as cursor:
        cursor.execute('SELECT child_id, "index", value FROM registry_blindindexentry')
        assert len(cursor.fetchall()) == len(before)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert "id" not in columns()
    assert entries() == before
    assert candidate_children(wanted) == found
