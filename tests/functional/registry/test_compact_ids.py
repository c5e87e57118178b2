"""The ids of children, source records and involvements are 16 bytes in every column that
holds one, on SQLite too, and migration 0023 converts a registry written before, whose ids
SQLite held as 32 hexadecimal characters, to read the same; blind index values are 32-bit
integers (docs/adr/0013-lean-registry-layout.md)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from contactpoint.registry import candidates, golden
from contactpoint.registry.blind_index import SPECS
from contactpoint.registry.involvement_facts import facts_of, with_links
from contactpoint.registry.models import BlindIndexEntry, Child, Involvement, SourceRecord
from tests.support.children import load_children
from tests.support.migrations import migrated

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("registry", "0022_waiting_records_look_alike")]
# Every column holding such an id, with the table it is in.
COLUMNS = [
    ("registry_child", "id"),
    ("registry_sourcerecord", "id"),
    ("registry_sourcerecord", "child_id"),
    ("registry_involvement", "id"),
    ("registry_involvement", "child_id"),
    ("registry_involvement", "source_record_id"),
    ("registry_blindindexentry", "child_id"),
]


def _read() -> dict[str, Any]:
    """What the registry says, read through the models: ids, links, golden records,
    involvements opened, and the children each blind index entry finds."""
    children = sorted(Child.objects.values_list("pk", flat=True))
    records = sorted(SourceRecord.objects.values_list("pk", "child_id", "payload"))
    rows = with_links(Involvement.objects.all())
    facts = facts_of(rows)
    opened = sorted((i.pk, i.child_id, i.source_record_id, i.organisation_id) for i in rows)
    entries = list(BlindIndexEntry.objects.values_list("index", "value", "child_id"))
    found = candidates.candidate_children([{(index, value)} for index, value, _ in entries])
    return {
        "children": children,
        "records": [(pk, child, bytes(payload)) for pk, child, payload in records],
        "golden": [golden.golden_record(pk) for pk in children],
        "involvements": (opened, sorted(facts.items())),
        "entries": sorted(entries),
        "found": [sorted(f) for f in found],
        "active": [candidates.active_candidates({(i, v)}) for i, v, _ in sorted(entries)],
        "by_child": {pk: SourceRecord.objects.filter(child_id=pk).count() for pk in children},
    }


def _stored(table: str, column: str) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
        return [value for (value,) in cursor.fetchall()]


def test_every_id_column_holds_16_bytes(feeds: Path) -> None:
    load_children(feeds)
    for table, column in COLUMNS:
        stored = _stored(table, column)
        assert stored, (table, column)
        if connection.vendor == "sqlite":
            assert {type(v) for v in stored} == {bytes}, (table, column)
            assert {len(v) for v in stored} == {16}, (table, column)
        else:
            assert {type(v) for v in stored} == {uuid.UUID}, (table, column)


def test_a_registry_written_with_text_ids_converts_and_reads_the_same(feeds: Path) -> None:
    load_children(feeds)
    before = _read()
    ids = {str(pk) for pk in before["children"]}
    try:
        migrated(BEFORE)
        if connection.vendor == "sqlite":
            # As the code before wrote them: Django's UUIDField, 32 lower-case characters.
            assert {v.replace("-", "") for v in ids} == set(_stored("registry_child", "id"))
            for table, column in COLUMNS:
                assert {len(v) for v in _stored(table, column)} == {32}, (table, column)
    finally:
        migrated()
    after = _read()
    assert after == before
    # The conversion is only of what is still text: a rerun changes nothing.
    from importlib import import_module

    migration = import_module("contactpoint.registry.migrations.0023_compact_ids")
    with connection.schema_editor() as editor:
        migration.convert(migrated(), editor)
    assert _read() == before
    if connection.vendor == "sqlite":
        assert {len(v) for v in _stored("registry_blindindexentry", "child_id")} == {16}
    # A refresh of every child finds each one's same entries.
    golden.refresh(before["children"])
    assert _read() == before


def test_blind_index_values_are_32_bit_integers() -> None:
    """At most 22 bits (blind_index.SPECS): 4 bytes in the row and in the key, not 8."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT type FROM pragma_table_info('registry_blindindexentry')"
                " WHERE name = 'value'"
            )
        else:
            cursor.execute(
                "SELECT data_type FROM information_schema.columns"
                " WHERE table_name = 'registry_blindindexentry' AND column_name = 'value'"
            )
        (declared,) = cursor.fetchone()
    assert declared.lower() == "integer"
    assert max(spec.bits for spec in SPECS.values()) <= 31
