"""The golden record: choose the preferred fact of each kind and rebuild the blind indexes.

Survivorship (docs/survivorship.md): among facts of one kind, the source with the lowest
rank wins, then the most recent as-at date, then the highest confidence. Every fact keeps
its provenance, so the golden record can say where each field came from.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models

from contactpoint.lib.identifiers import InvalidIdentifier, parse_postcode
from contactpoint.registry import blind_index
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.models import (
    BlindIndexEntry,
    Carer,
    ChildAddress,
    ChildDemographic,
    ChildIdentifier,
    ChildName,
)

# Fact kinds that have one preferred row per child (identifiers: one per scheme).
RANKED: tuple[tuple[type[models.Model], dict[str, Any], str | None], ...] = (
    (ChildDemographic, {}, None),
    (ChildName, {"kind": "current"}, None),
    (ChildAddress, {"kind": "current"}, None),
    (ChildIdentifier, {}, "scheme"),
)


def survivor_key(fact: Any) -> tuple[int, int, float]:
    sr = fact.source_record
    return (sr.source.rank, -sr.as_at.toordinal(), -fact.confidence)


def _facts(model: type[models.Model], child_ids: Sequence[uuid.UUID], **filters: Any) -> list[Any]:
    manager = model._default_manager
    query = manager.filter(child_id__in=child_ids, **filters).select_related(
        "source_record__source"
    )
    return list(query)


def choose_preferred(child_ids: Sequence[uuid.UUID]) -> None:
    """Mark the survivor of each fact kind for each child, clearing the rest."""
    for model, filters, group_by in RANKED:
        groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
        for fact in _facts(model, child_ids, **filters):
            groups[(fact.child_id, getattr(fact, group_by) if group_by else None)].append(fact)
        winners = {min(group, key=survivor_key).pk for group in groups.values()}
        changed = []
        for group in groups.values():
            for fact in group:
                if fact.preferred != (fact.pk in winners):
                    fact.preferred = fact.pk in winners
                    changed.append(fact)
        model._default_manager.bulk_update(changed, ["preferred"], batch_size=500)


def rebuild_indexes(child_ids: Sequence[uuid.UUID]) -> None:
    """Recompute every blind index entry of these children from their facts."""
    ciphers = ciphers_for(set(child_ids))
    entries: dict[uuid.UUID, set[tuple[blind_index.Index, int]]] = defaultdict(set)
    births: dict[uuid.UUID, set[dt.date]] = defaultdict(set)
    districts: dict[uuid.UUID, set[Any]] = defaultdict(set)
    for f in ChildDemographic.objects.filter(child_id__in=child_ids):
        if (c := ciphers.get(f.child_id)) and (iso := c.open_field(f, "date_of_birth")):
            births[f.child_id].add(dt.date.fromisoformat(iso))
    for a in ChildAddress.objects.filter(child_id__in=child_ids, kind="current"):
        if (c := ciphers.get(a.child_id)) and (pc := c.open_field(a, "postcode")):
            try:
                districts[a.child_id].add(parse_postcode(pc))
            except InvalidIdentifier:
                continue
    for i in ChildIdentifier.objects.filter(child_id__in=child_ids):
        if (c := ciphers.get(i.child_id)) and (value := c.open_field(i, "value")):
            entries[i.child_id] |= blind_index.identifier_entries(i.scheme, value)
    for n in ChildName.objects.filter(child_id__in=child_ids):
        if not (c := ciphers.get(n.child_id)):
            continue
        given, family = c.open_field(n, "given_name") or "", c.open_field(n, "family_name") or ""
        for birth in births[n.child_id] or [None]:
            for postcode in districts[n.child_id] or [None]:
                entries[n.child_id] |= blind_index.name_entries(given, family, birth, postcode)
    BlindIndexEntry.objects.filter(child_id__in=child_ids).delete()
    BlindIndexEntry.objects.bulk_create(
        [
            BlindIndexEntry(child_id=child, index=i, value=v)
            for child, pairs in entries.items()
            for i, v in pairs
        ],
        batch_size=1000,
    )


def refresh(child_ids: Iterable[uuid.UUID]) -> None:
    ids = sorted(set(child_ids), key=str)
    for start in range(0, len(ids), 400):
        chunk = ids[start : start + 400]
        choose_preferred(chunk)
        rebuild_indexes(chunk)


@dataclass(frozen=True)
class Provenance:
    source: str
    as_at: dt.date
    confidence: float


@dataclass(frozen=True)
class Field:
    value: str
    provenance: Provenance


@dataclass(frozen=True)
class GoldenRecord:
    """A child as the golden record shows them; every field carries its provenance."""

    child_id: uuid.UUID
    given_name: Field | None
    family_name: Field | None
    former_family_names: tuple[Field, ...]
    date_of_birth: Field | None
    sex: Field | None
    postcode: Field | None
    address_line1: Field | None
    nhs_number: Field | None
    upn: Field | None
    carers: tuple[dict[str, Field | None], ...]


def _field(cipher: Any, fact: Any | None, column: str) -> Field | None:
    if fact is None:
        return None
    value = cipher.open_field(fact, column)
    if value is None:
        return None
    sr = fact.source_record
    return Field(value, Provenance(sr.source.code, sr.as_at, fact.confidence))


def golden_record(child_id: uuid.UUID) -> GoldenRecord | None:
    """Open a child's preferred facts. None when the child's data key is gone (shredded)."""
    cipher = ciphers_for({child_id}).get(child_id)
    if cipher is None:
        return None

    def preferred(model: type[models.Model], **filters: Any) -> Any | None:
        facts = _facts(model, [child_id], preferred=True, **filters)
        return facts[0] if facts else None

    demo, name, address = (
        preferred(ChildDemographic),
        preferred(ChildName, kind="current"),
        preferred(ChildAddress, kind="current"),
    )
    ids = {s: preferred(ChildIdentifier, scheme=s) for s in ("nhs_number", "upn")}
    former = _facts(ChildName, [child_id], kind="former")
    carers = _facts(Carer, [child_id])
    return GoldenRecord(
        child_id=child_id,
        given_name=_field(cipher, name, "given_name"),
        family_name=_field(cipher, name, "family_name"),
        former_family_names=tuple(f for n in former if (f := _field(cipher, n, "family_name"))),
        date_of_birth=_field(cipher, demo, "date_of_birth"),
        sex=_field(cipher, demo, "sex"),
        postcode=_field(cipher, address, "postcode"),
        address_line1=_field(cipher, address, "line1"),
        nhs_number=_field(cipher, ids["nhs_number"], "value"),
        upn=_field(cipher, ids["upn"], "value"),
        carers=tuple(
            {k: _field(cipher, c, k) for k in ("given_name", "family_name", "phone", "email")}
            for c in carers
        ),
    )
