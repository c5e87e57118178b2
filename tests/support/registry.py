"""The whole registry: described without random ids (to compare two loads), and emptied."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import QuerySet

from contactpoint.backup.archive import backed_up_models
from contactpoint.ingest.models import LoadedFile, QuarantinedRow
from contactpoint.keystore.models import DataKey
from contactpoint.linkage.models import LinkDecision, ReviewItem
from contactpoint.registry import origins
from contactpoint.registry.golden import golden_record
from contactpoint.registry.involvement_facts import with_links
from contactpoint.registry.models import (
    BlindIndexEntry,
    Child,
    Involvement,
    SourceRecord,
)
from tests.support.children import roles_of


def empty_registry() -> None:
    """Every row a backup holds deleted (the key store left as it is)."""
    for model in reversed(backed_up_models()):
        model._default_manager.all().delete()


def source_codes() -> dict[Any, str]:
    """The code of the source that sent each record whose owner's key is there, by record
    id: no column says it, each record's `origin` is opened (registry/origins.py)."""
    codes = {pk: s.code for pk, s in origins.sources().items()}
    opened = origins.of_records(list(SourceRecord.objects.only("id", "child_id", "origin")))
    return {pk: codes[source] for pk, source in opened.items()}


def records_from(code: str) -> QuerySet[SourceRecord]:
    """The records the source `code` sent (their origins opened)."""
    ids = [pk for pk, sent_by in source_codes().items() if sent_by == code]
    return SourceRecord.objects.filter(pk__in=ids)


def fingerprint() -> dict[str, Any]:
    """The whole registry, described without random ids, cpids or timestamps."""
    refs: dict[Any, frozenset[tuple[str, str]]] = {}
    codes = source_codes()
    for pk, child_id, ref in SourceRecord.objects.filter(child__isnull=False).values_list(
        "id", "child_id", "record_ref"
    ):
        refs[child_id] = refs.get(child_id, frozenset()) | {(codes[pk], bytes(ref).hex())}
    children = {
        (refs[c.id], c.shielded, c.status, golden_record(c.id)) for c in Child.objects.all()
    }
    rows = with_links(Involvement.objects.order_by("pk"))
    return {
        "children": children,
        "pending": {
            (codes[pk], bytes(ref), bytes(digest))
            for pk, ref, digest in SourceRecord.objects.filter(child__isnull=True).values_list(
                "id", "record_ref", "digest"
            )
        },
        "involvements": {
            (refs[i.child_id], i.organisation.code, role, i.last_confirmed, i.end_date)
            for i, role in zip(rows, roles_of(rows), strict=True)
        },
        "index": {
            (refs[child], index, value)
            for child, index, value in BlindIndexEntry.objects.values_list(
                "child_id", "index", "value"
            )
        },
        "quarantine": set(
            QuarantinedRow.objects.values_list(
                "loaded_file__sha256", "line", "field", "severity", "reason"
            )
        ),
        "files": set(
            LoadedFile.objects.values_list(
                "sha256", "lines_done", "rows_loaded", "rows_unchanged", "rows_quarantined"
            )
        ),
        # Data keys are keyed by ids derived from the records: no orphan keys, no missing ones.
        "data_keys": set(DataKey.objects.values_list("owner_id", flat=True)),
    }


def empty_registry_and_keys() -> None:
    """The registry and the key store emptied."""
    empty_registry()
    DataKey.objects.all().delete()


def empty_everything() -> None:
    """The registry and the key store emptied, with every linkage decision and review."""
    empty_registry_and_keys()
    LinkDecision.objects.all().delete()
    ReviewItem.objects.all().delete()


def raw_rows(table: str) -> list[tuple[object, ...]]:
    """Every stored value of a table, as a thief reading the database would see them."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed names)
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in cursor]
