"""Source records' payloads are sealed compact, and the migration converts a registry whose
payloads were sealed as canonical JSON: every record opens as it did (ADR 0013)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from contactpoint.keystore import service as keys
from contactpoint.registry import golden, payloads
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.golden import golden_record
from contactpoint.registry.models import SourceRecord
from tests.support.children import load_children

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("registry", "0011_drop_unused_indexes")]


def sealed_texts() -> dict[uuid.UUID, str | None]:
    """Each record's payload as sealed (compact or canonical), opened; None: key gone."""
    records = list(SourceRecord.objects.all())
    ciphers = ciphers_for({sr.child_id or sr.pk for sr in records})
    texts: dict[uuid.UUID, str | None] = {}
    for sr in records:
        cipher = ciphers.get(sr.child_id or sr.pk)
        opened = cipher.open(SourceRecord, "payload", sr.pk, bytes(sr.payload)) if cipher else None
        texts[sr.pk] = opened
    return texts


def test_a_load_seals_every_payload_compact(feeds: Path) -> None:
    load_children(feeds)
    texts = sealed_texts()
    assert texts
    assert all(t is not None and t.startswith(f'["{payloads.FORM}",') for t in texts.values())


def test_a_payload_opens_as_its_canonical_json_decoded_in_either_form(feeds: Path) -> None:
    load_children(feeds)
    records = list(SourceRecord.objects.all())
    ciphers = ciphers_for({sr.child_id for sr in records if sr.child_id})
    for sr in records:
        cipher = ciphers[sr.child_id]  # type: ignore[index]
        body = payloads.open_payload(cipher, sr.pk, sr.payload)
        assert body is not None
        assert payloads.open_document(cipher, sr.pk, sr.payload) == json.loads(body)
        as_before = cipher.seal(SourceRecord, "payload", sr.pk, body)  # canonical JSON
        assert payloads.open_document(cipher, sr.pk, as_before) == json.loads(body)
    assert payloads.open_document(cipher, sr.pk, None) is None


def test_the_migration_makes_canonical_payloads_compact_and_they_open_the_same(
    feeds: Path,
) -> None:
    children = load_children(feeds)
    kept, purged = sorted(children.values(), key=lambda c: c.pk.hex)[:2]
    records = list(SourceRecord.objects.all())
    ciphers = ciphers_for({sr.child_id for sr in records if sr.child_id})
    bodies = {}
    for sr in records:  # sealed as before: canonical JSON
        cipher = ciphers[sr.child_id]  # type: ignore[index]
        bodies[sr.pk] = payloads.open_payload(cipher, sr.pk, sr.payload)
        sr.payload = cipher.seal(SourceRecord, "payload", sr.pk, bodies[sr.pk])
    SourceRecord.objects.bulk_update(records, ["payload"])
    golden_before = golden_record(kept.pk)
    keys.destroy_data_keys([purged.pk])
    shredded = {sr.pk: bytes(sr.payload) for sr in records if sr.child_id == purged.pk}
    assert all(t is not None and t.startswith("{") for t in sealed_texts().values() if t)

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    texts = sealed_texts()
    for sr in SourceRecord.objects.all():
        if sr.pk in shredded:  # no key opens it: left exactly as it was
            assert bytes(sr.payload) == shredded[sr.pk]
            assert texts[sr.pk] is None
            continue
        assert texts[sr.pk].startswith(f'["{payloads.FORM}",')  # type: ignore[union-attr]
        cipher = ciphers[sr.child_id]  # type: ignore[index]
        assert payloads.open_payload(cipher, sr.pk, sr.payload) == bodies[sr.pk]
    # Going back past registry 0015 cleared the records' `preferred` bits (ADR 0013): the
    # golden record is chosen again from the payloads, as a feed's next record would.
    golden.refresh([kept.pk])
    assert golden_record(kept.pk) == golden_before
