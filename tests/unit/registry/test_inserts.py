"""A row written by `Inserter`, by each method the database has (`executemany`, and `COPY` on
PostgreSQL), reads back exactly as the same row written by `bulk_create`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import IntegrityError, connection, models, transaction

from contactpoint.linkage.models import LinkDecision
from contactpoint.registry.inserts import Inserter, Method
from contactpoint.registry.models import BlindIndexEntry, Child, SourceRecord
from contactpoint.registry.models.involvements import Involvement

# Transactional like every other database test here. Run in a transaction instead, this
# module was followed under `make test` by "disk I/O error" on SQLite in later tests that
# restore backups or kill writers; the exact mechanism was not pinned down.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def child() -> Child:
    return Child.objects.create(id=uuid.uuid4(), cpid="CP-TEST-1")


@pytest.fixture
def record(child: Child) -> SourceRecord:
    return SourceRecord.objects.create(
        record_ref=b"r" * 32,
        child=child,
        status="linked",
        method="nhs_number",
        confidence=1.0,
        as_at=dt.date(2026, 1, 2),
        digest=b"d" * 32,
        payload=b"\x01sealed",
    )


def methods() -> list[Method]:
    return ["executemany", "copy"] if connection.vendor == "postgresql" else ["executemany"]


def written_both_ways(model: type[models.Model], row: dict[str, Any]) -> None:
    """Write the row with bulk_create, read it back and delete it, then the same with
    Inserter by each method: all must read back the same, but for ids and times they make
    themselves."""
    model._default_manager.bulk_create([model(**row)])
    (by_orm,) = model._default_manager.values()
    made = {
        f.attname
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    pk = model._meta.pk
    if not isinstance(pk, models.CompositePrimaryKey) and pk.attname not in row:
        made.add(pk.attname)  # a composite key is its columns, all in the row
    for method in methods():
        model._default_manager.all().delete()
        inserter = Inserter(model, tuple(row), method=method)
        inserter.add(*row.values())
        assert inserter.flush() == 1
        (by_inserter,) = model._default_manager.values()
        assert all(by_inserter[k] is not None for k in made)
        assert {k: v for k, v in by_inserter.items() if k not in made} == {
            k: v for k, v in by_orm.items() if k not in made
        }, method


def test_a_child_and_its_contactpoint_id_read_back_the_same() -> None:
    child = {"id": uuid.uuid4(), "cpid": "CP-TEST-2", "archived_quarter": dt.date(2026, 4, 1)}
    written_both_ways(Child, child)


def test_a_source_record_reads_back_the_same(child: Child) -> None:
    written_both_ways(
        SourceRecord,
        {
            "id": uuid.uuid4(),
            "record_ref": b"\x01" * 32,
            "child_id": child.pk,
            "status": "linked",
            "method": "model",
            "confidence": 0.875,
            "as_at": dt.date(2025, 9, 30),
            "digest": b"\x00\xff" * 16,
            "payload": b"\x01" + bytes(range(40)),
            "origin": b"\x01" + bytes(range(32)),
        },
    )


def test_a_source_records_preferred_bits_and_history_read_back_the_same(child: Child) -> None:
    written_both_ways(
        SourceRecord,
        {
            "id": uuid.uuid4(),
            "record_ref": b"\x02" * 32,
            "child_id": child.pk,
            "status": "linked",
            "method": "new_child",
            "confidence": 1.0,
            "as_at": dt.date(2025, 9, 30),
            "digest": b"\x00\xff" * 16,
            "payload": b"\x01" + bytes(range(40)),
            "preferred": 0b10101,
            "history": b"\x01h",
        },
    )


def test_index_entries_decisions_and_involvements_read_back_the_same(
    child: Child, record: SourceRecord
) -> None:
    written_both_ways(BlindIndexEntry, {"child_id": child.pk, "index": 3, "value": 2**19 - 1})
    written_both_ways(
        LinkDecision,
        {
            "action": "auto_link",
            "source_record_id": record.pk,
            "child_id": child.pk,
            "model_id": None,
            "decided_by": "contactpoint",
        },
    )
    written_both_ways(
        Involvement,
        {
            "id": uuid.uuid4(),
            "child_id": child.pk,
            "member": b"\x04" * 16,
            "area_member": b"\x05" * 16,
            "facts": b"\x01f",
            "slot": b"\x02" * 16,
            "last_confirmed": dt.date(2026, 3, 1),
            "source_record_id": record.pk,
        },
    )


def test_a_default_that_is_made_fresh_is_made_for_each_row(child: Child) -> None:
    inserter = Inserter(LinkDecision, ("action", "child_id", "decided_by"))
    for _ in range(3):
        inserter.add("new_child", child.pk, "contactpoint")
    inserter.flush()

    assert LinkDecision.objects.values("id").distinct().count() == 3


def test_an_unknown_column_or_a_missing_value_is_refused() -> None:
    with pytest.raises(ValueError, match="has no column colour"):
        Inserter(Child, ("id", "colour"))
    with pytest.raises(ValueError, match=r"BlindIndexEntry\.value needs a value"):
        Inserter(BlindIndexEntry, ("child_id", "index"))


def test_postgresql_is_written_with_copy_and_sqlite_with_executemany() -> None:
    postgres = connection.vendor == "postgresql"
    assert Inserter(Child, ("id", "cpid")).method == ("copy" if postgres else "executemany")
    if not postgres:
        with pytest.raises(ValueError, match="COPY needs PostgreSQL"):
            Inserter(Child, ("id", "cpid"), method="copy")


def test_a_duplicate_is_refused_and_its_transaction_rolled_back_by_each_method() -> None:
    Child.objects.create(id=uuid.uuid4(), cpid="CP-TEST-3")
    for method in methods():
        inserter = Inserter(Child, ("id", "cpid"), method=method)
        inserter.add_many([(uuid.uuid4(), c) for c in ("CP-TEST-4", "CP-TEST-3", "CP-TEST-5")])

        with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
            inserter.flush()

        assert list(Child.objects.values_list("cpid", flat=True)) == ["CP-TEST-3"]
    again = Inserter(Child, ("id", "cpid"))
    again.add(uuid.uuid4(), "CP-TEST-4")  # the connection is usable again
    assert again.flush() == 1
