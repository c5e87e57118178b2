"""The whole registry: described without random ids (to compare two loads), and emptied."""

from __future__ import annotations

from typing import Any

from django.db import connection

from contactpoint.backup.archive import backed_up_models
from contactpoint.ingest.models import LoadedFile, QuarantinedRow
from contactpoint.keystore.models import DataKey
from contactpoint.linkage.models import LinkDecision, ReviewItem
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


def fingerprint() -> dict[str, Any]:
    """The whole registry, described without random ids, cpids or timestamps."""
    refs: dict[Any, frozenset[tuple[str, str]]] = {}
    for child_id, source, ref in SourceRecord.objects.filter(child__isnull=False).values_list(
        "child_id", "source__code", "record_ref"
    ):
        refs[child_id] = refs.get(child_id, frozenset()) | {(source, bytes(ref).hex())}
    children = {
        (refs[c.id], c.shielded, c.status, golden_record(c.id)) for c in Child.objects.all()
    }
    rows = with_links(Involvement.objects.order_by("pk"))
    return {
        "children": children,
        "pending": set(
            SourceRecord.objects.filter(child__isnull=True).values_list(
                "source__code", "record_ref", "digest"
            )
        ),
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
