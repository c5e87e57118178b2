"""Only the indexes a query uses, on the tables with a row (or more) per child.

Each index costs bytes on every row of a table that holds one or more rows a child
(docs/adr/0013-lean-registry-layout.md), so each of these tables has exactly the indexes
listed here, each with the query that reads it. Read from the database itself (SQLite or
PostgreSQL, whichever the suite runs on), so a migration that leaves an index behind fails
as well as a model that asks for one more.
"""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

PRIMARY, UNIQUE, INDEX = "primary key", "unique", "index"

# table: {(columns, kind): the query that reads it}
WANTED: dict[str, dict[tuple[tuple[str, ...], str], str]] = {
    "registry_child": {
        (("id",), PRIMARY): "every reference to a child",
        (("cpid",), UNIQUE): "a child by its contactpoint ID (registry.lookup)",
        (("merged_into_id",), INDEX): "the children merged into one (oversight.workspace)",
    },
    "registry_sourcerecord": {
        (("id",), PRIMARY): "a record by id (review, relink, decisions)",
        (("record_ref",), UNIQUE): "a record a feed sends again (ingest)",
        (("child_id",), INDEX): "a child's records (relink, golden record, search)",
    },
    "linkage_linkdecision": {
        (("id",), PRIMARY): "a decision by id (undo in review)",
        (("reverses_id",), UNIQUE): "whether a decision was undone (corrections)",
    },
    "registry_blindindexentry": {
        (("index", "value", "child_id"), PRIMARY): "blocking: children by a digest (search)",
        (("child_id",), INDEX): "a child's entries (indexes rebuild, purge)",
    },
    "registry_involvement": {
        (("id",), PRIMARY): "an involvement by id (record pages)",
        # and, among them, is organisation O involved (`member`), is this index team local
        # (`area_member`): both digests hold the child's id, so no query compares one
        # without naming the child.
        (("child_id",), INDEX): "a child's involvements (record, need-to-know)",
        (("child_id",), UNIQUE): "one open lead professional a child (partial)",
        (("source_record_id",), INDEX): "what a record stated (relink)",
        (("slot",), UNIQUE): "one open involvement a child, organisation and role (partial)",
    },
}


def primary_key_order(table: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The primary key's columns in the key's own order. Django's SQLite introspection gives
    them in the table's column order, which a rebuilt table (a migration altering a column)
    may change while the key stays (index, value, child_id)."""
    if connection.vendor != "sqlite":
        return columns
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA table_info({connection.ops.quote_name(table)})")
        position = {row[1]: row[5] for row in cursor.fetchall()}  # name: place in the key
    return tuple(sorted(columns, key=position.__getitem__))


def indexes_of(table: str) -> set[tuple[tuple[str, ...], str]]:
    """The table's primary key, unique constraints and indexes, by columns and kind."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    found = set()
    for found_constraint in constraints.values():
        columns = tuple(found_constraint["columns"])
        if found_constraint["primary_key"]:
            found.add((primary_key_order(table, columns), PRIMARY))
        elif found_constraint["unique"]:
            found.add((columns, UNIQUE))
        elif found_constraint["index"]:
            found.add((columns, INDEX))
    return found


@pytest.mark.parametrize("table", sorted(WANTED))
def test_a_table_with_rows_per_child_has_only_the_indexes_its_queries_use(table: str) -> None:
    assert indexes_of(table) == set(WANTED[table])
