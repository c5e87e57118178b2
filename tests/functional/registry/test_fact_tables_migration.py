"""Migrations 0015-0017 turn a registry's fact tables into each source record's `preferred`
bits and sealed address `history`, and the golden record reads the same from the payloads
(docs/adr/0013-lean-registry-layout.md)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from importlib import import_module
from typing import Any

import pytest
from django.db import connection

from contactpoint.keystore import service as keys
from contactpoint.registry import golden, payloads, record_facts
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.feeds import RowParser
from contactpoint.registry.models import SourceRecord
from contactpoint.registry.record_facts import Kind, PreviousAddress
from tests.support.feeds import child_row
from tests.support.migrations import migrated as _migrate

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

WITH_FACT_TABLES = [("registry", "0014_child_cpid_column")]
FILLED = [("registry", "0016_facts_from_fact_tables")]
ENDED = dt.date(2026, 9, 1)
SEALED = {"date_of_birth", "given_name", "family_name", "value"}
SEALED |= {"line1", "line2", "town", "postcode"}


def _old_registry(apps: Any) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A child as the fact tables held it: an NHS record supplies the date of birth, name
    and NHS number, a school record the current address and an earlier one. Returns the
    child's and both records' ids."""
    get = apps.get_model
    record_model = get("registry", "SourceRecord")
    nhs_source = get("registry", "Source").objects.create(
        code="n", name="N", kind="national", rank=10
    )
    school_source = get("registry", "Source").objects.create(
        code="s", name="S", kind="national", rank=20
    )
    child = get("registry", "Child").objects.create(cpid="CP-MIGRATE-1")
    cipher = ChildCipher(child.pk, keys.ensure_data_key(child.pk))
    parser = RowParser(dt.date(2026, 12, 1))
    records = []
    for n, (source, row) in enumerate(
        [
            (nhs_source, child_row("N1", postcode="", address_line1="")),
            (school_source, child_row("S1", nhs_number="", postcode="M1 1AE")),
        ]
    ):
        parsed = parser.parse(row)
        assert parsed is not None
        sr = record_model.objects.create(
            source=source,
            record_ref=bytes([n]) * 32,
            child=child,
            status="linked",
            method="nhs_number",
            confidence=1.0,
            as_at=parsed.as_at,
            digest=b"d" * 32,
        )
        body = json.dumps(parsed.canonical(), sort_keys=True)
        sr.payload = payloads.seal(cipher, sr.pk, body)
        sr.save()
        records.append(sr)
    nhs, school = records

    def fact(name: str, sr: Any, preferred: bool, **values: Any) -> Any:
        row = get("registry", name)(
            child=child, source_record=sr, confidence=1.0, preferred=preferred, **values
        )
        for column in SEALED & set(values):
            setattr(row, column, cipher.seal(type(row), column, row.pk, values[column]))
        row.save()
        return row

    fact("ChildDemographic", nhs, True, date_of_birth="2014-06-01")
    fact("ChildDemographic", school, False, date_of_birth="2014-06-01")
    fact("ChildName", nhs, True, kind="current", given_name="Ola", family_name="Nowak")
    fact("ChildName", school, False, kind="current", given_name="Ola", family_name="Nowak")
    fact("ChildIdentifier", nhs, True, scheme="nhs_number", value="4010232137")
    fact("ChildAddress", school, True, kind="current", line1="1 Low Street", postcode="M1 1AE")
    fact(
        "ChildAddress",
        school,
        False,
        kind="previous",
        line1="7 High Street",
        line2="",
        town="Leeds",
        postcode="LS1 4AP",
        ended_on=ENDED,
    )
    return child.pk, nhs.pk, school.pk


def _filled() -> dict[uuid.UUID, tuple[int, list[PreviousAddress]]]:
    """Each record's bits and its history, opened."""
    found = {}
    # Only these columns: the table is read at an older state of the schema.
    for sr in SourceRecord.objects.only("id", "child_id", "preferred", "history"):
        assert sr.child_id is not None
        cipher = record_facts.ciphers_for({sr.child_id})[sr.child_id]
        found[sr.pk] = (sr.preferred, record_facts.history_of(cipher, sr.pk, sr.history))
    return found


def test_the_fact_tables_become_each_records_bits_and_history() -> None:
    try:
        child, nhs, school = _old_registry(_migrate(WITH_FACT_TABLES))
        filled_apps = _migrate(FILLED)
        wanted = {
            nhs: (Kind.BIRTH | Kind.NAME | Kind.NHS_NUMBER, []),
            school: (
                int(Kind.ADDRESS),
                [PreviousAddress("7 High Street", "", "Leeds", "LS1 4AP", ENDED)],
            ),
        }
        assert _filled() == wanted
        # Interrupted after its first batch, the migration runs again to the same end.
        SourceRecord.objects.filter(pk=school).update(preferred=0, history=None)
        migration = import_module("contactpoint.registry.migrations.0016_facts_from_fact_tables")
        with connection.schema_editor(atomic=False) as editor:
            migration.fill(filled_apps, editor)
        assert _filled() == wanted
    finally:
        _migrate()
    assert "registry_childname" not in connection.introspection.table_names()
    gold = golden.golden_record(child)
    assert gold is not None and gold.postcode is not None and gold.nhs_number is not None
    assert (gold.postcode.value, gold.postcode.provenance.source) == ("M1 1AE", "s")
    assert (gold.nhs_number.value, gold.nhs_number.provenance.source) == ("4010232137", "n")
    # A refresh chooses what the migration set.
    golden.refresh([child])
    assert _filled() == wanted
