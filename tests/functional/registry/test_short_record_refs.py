"""A source record's `record_ref` and content `digest` keep 128 bits, and migration 0018
cuts those of a registry written before to the same, so a record sent again is still
recognised (docs/adr/0013-lean-registry-layout.md)."""

from __future__ import annotations

import os
import uuid
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from contactpoint.ingest.loader import load_folder
from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto
from contactpoint.registry.models import SourceRecord
from contactpoint.registry.sources import record_ref
from tests.support.feeds import child_row, write_feed
from tests.support.migrations import written_before

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("registry", "0017_drop_fact_tables")]
SOURCE = "nhs_demographics"


def _rows(as_at: str) -> list[dict[str, str]]:
    return [
        child_row("N1", as_at=as_at),
        child_row("N2", given_name="Ada", nhs_number="4010232145", date_of_birth="2015-02-01"),
    ]


def _stored() -> dict[bytes, tuple[uuid.UUID, bytes]]:
    return {
        bytes(sr.record_ref): (sr.pk, bytes(sr.digest))
        # Only these columns: the table is also read at an older state of the schema.
        for sr in SourceRecord.objects.only("id", "record_ref", "digest").order_by("pk")
    }


def test_a_load_keeps_128_bits_of_each_reference_and_digest(feeds: Path) -> None:
    write_feed(feeds, SOURCE, _rows("2026-11-01"))
    load_folder(feeds)
    stored = _stored()
    assert set(stored) == {record_ref(SOURCE, "N1"), record_ref(SOURCE, "N2")}
    assert all(len(ref) == 16 and len(digest) == 16 for ref, (_, digest) in stored.items())


def test_the_migration_cuts_full_references_and_a_record_sent_again_is_recognised(
    feeds: Path,
) -> None:
    write_feed(feeds, SOURCE, _rows("2026-11-01"))
    load_folder(feeds)
    before = _stored()
    full = {
        record_ref(SOURCE, rid): crypto.keyed_digest(
            derived_key("source-record-ref/v1"), f"{SOURCE}\x1f{rid}".encode()
        )
        for rid in ("N1", "N2")
    }

    def as_before(apps: Any) -> None:
        """The references and digests as the code of before computed them: 256 bits (the
        state's model: the ids are as it stored them)."""
        records = apps.get_model("registry", "SourceRecord")
        for ref, (pk, digest) in before.items():
            records.objects.filter(pk=pk).update(
                record_ref=full[ref], digest=digest + os.urandom(16)
            )
        assert all(len(ref) == 32 for ref in _stored())

    written_before(BEFORE, as_before)
    assert _stored() == before
    # Interrupted and run again, the migration leaves what it cut.
    migration = import_module("contactpoint.registry.migrations.0018_short_record_refs")
    with connection.schema_editor(atomic=False) as editor:
        migration.cut(None, editor)
    assert _stored() == before
    # The same records sent again, one of them changed: recognised, no new record.
    write_feed(feeds, SOURCE, _rows("2026-11-20"), part=1)
    load_folder(feeds)
    after = _stored()
    assert {ref: pk for ref, (pk, _) in after.items()} == {
        ref: pk for ref, (pk, _) in before.items()
    }
    n1 = record_ref(SOURCE, "N1")
    assert after[n1][1] != before[n1][1]  # its content changed: a new digest
    assert SourceRecord.objects.get(record_ref=n1).as_at.isoformat() == "2026-11-20"
