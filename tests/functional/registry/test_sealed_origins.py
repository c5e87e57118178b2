"""Which source sent a record is sealed in it (`origin`, docs/adr/0010): no column says it,
a record sent again is recognised by its keyed reference alone, and the migration converts
a registry written with the clear source so that it reads the same."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from contactpoint.ingest.loader import load_folder
from contactpoint.keystore import service as keys
from contactpoint.registry import origins, payloads
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.golden import golden_record
from contactpoint.registry.models import SourceRecord
from contactpoint.registry.sources import record_ref
from tests.support.children import load_children
from tests.support.feeds import child_row, write_feed
from tests.support.migrations import migrated
from tests.support.registry import source_codes

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("registry", "0024_blind_index_values_32_bits")]


def refs_from_origins() -> dict[uuid.UUID, tuple[bytes, bytes]]:
    """Each record's stored ref, and the ref made again from its opened origin's code and
    its opened payload's record id."""
    records = list(SourceRecord.objects.all())
    sources, opened = origins.sources(), origins.of_records(records)
    ciphers = ciphers_for({sr.child_id or sr.pk for sr in records})
    found = {}
    for sr in records:
        doc = payloads.open_document(ciphers[sr.child_id or sr.pk], sr.pk, sr.payload)
        assert doc is not None
        made = record_ref(sources[opened[sr.pk]].code, doc["record_id"])
        found[sr.pk] = (bytes(sr.record_ref), made)
    return found


def test_no_column_of_a_source_record_names_its_source() -> None:
    columns = {f.column for f in SourceRecord._meta.concrete_fields}
    assert not {"source_id", "source"} & columns
    assert "origin" in columns


def test_each_records_origin_is_sealed_at_one_length_and_opens_to_the_source_of_its_ref(
    feeds: Path,
) -> None:
    load_children(feeds)
    records = list(SourceRecord.objects.all())
    assert {len(bytes(sr.origin)) for sr in records} == {origins.SEALED_BYTES}
    refs = refs_from_origins()
    assert all(stored == made for stored, made in refs.values())
    assert sorted(source_codes().values()) == ["nhs_demographics"] * 4 + ["school_census"] * 4


def test_two_sources_sending_one_record_id_keep_a_record_each_recognised_when_sent_again(
    feeds: Path,
) -> None:
    write_feed(feeds, "nhs_demographics", [child_row("X1")])
    write_feed(feeds, "youth_offending", [child_row("X1")])
    load_folder(feeds)
    first = set(SourceRecord.objects.values_list("id", flat=True))
    assert len(first) == 2
    # Sent again, changed: each source's record is found by its ref and updated in place.
    write_feed(feeds, "nhs_demographics", [child_row("X1", as_at="2026-11-20")], part=1)
    write_feed(feeds, "youth_offending", [child_row("X1", as_at="2026-11-21")], part=1)
    load_folder(feeds)
    assert set(SourceRecord.objects.values_list("id", flat=True)) == first
    assert sorted(source_codes().values()) == ["nhs_demographics", "youth_offending"]
    days = sorted(SourceRecord.objects.values_list("as_at", flat=True))
    assert days == [dt.date(2026, 11, 20), dt.date(2026, 11, 21)]


def test_the_migration_seals_a_clear_source_and_the_registry_reads_the_same(feeds: Path) -> None:
    children = load_children(feeds)
    kept = sorted(children.values(), key=lambda c: c.pk.hex)
    purged, kept = kept[0], kept[1:]
    sent_by = source_codes()
    goldens = {c.pk: golden_record(c.pk) for c in kept}
    purged_records = set(SourceRecord.objects.filter(child=purged).values_list("id", flat=True))
    keys.destroy_data_keys([purged.pk])

    # The registry as the old layout held it: each record's source in clear, no origin.
    old = migrated(BEFORE)
    source_model = old.get_model("registry", "Source")
    record_model = old.get_model("registry", "SourceRecord")
    ids = dict(source_model.objects.values_list("code", "id"))
    for pk, code in sent_by.items():
        record_model.objects.filter(pk=pk).update(source_id=ids[code])
    assert not record_model.objects.filter(source__isnull=True).exists()
    assert "origin" not in {f.name for f in record_model._meta.concrete_fields}

    migrated()
    # Every record with a key has its source sealed again; a purged child's has none.
    assert source_codes() == {pk: c for pk, c in sent_by.items() if pk not in purged_records}
    assert all(
        (sr.origin is None) == (sr.pk in purged_records) for sr in SourceRecord.objects.all()
    )
    for child in kept:
        now, before = golden_record(child.pk), goldens[child.pk]
        assert now is not None and before is not None
        assert now == before  # each field's provenance names the same source
        assert now.record_sources == before.record_sources
