"""The golden record: choose the preferred fact of each kind and rebuild the blind indexes.

Survivorship (docs/survivorship.md): among facts of one kind, the source with the lowest
rank wins, then the most recent as-at date, then the highest confidence. Every fact keeps
its provenance, so the golden record can say where each field came from.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import ExpressionWrapper, Q, Value

from contactpoint.lib.identifiers import InvalidIdentifier, parse_postcode
from contactpoint.registry import blind_index
from contactpoint.registry.children import FactWriter, PendingFact, ciphers_for
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.inserts import Inserter
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
# A fact without this column's value ranks after every fact with one, whatever its source:
# a record that loaded without a date of birth never hides the child's date of birth.
NEEDED: dict[type[models.Model], str] = {ChildDemographic: "date_of_birth"}


def _query(model: type[models.Model], child_ids: Sequence[uuid.UUID], **filters: Any) -> Any:
    manager = model._default_manager
    return manager.filter(child_id__in=child_ids, **filters).select_related("source_record__source")


def _facts(model: type[models.Model], child_ids: Sequence[uuid.UUID], **filters: Any) -> list[Any]:
    return list(_query(model, child_ids, **filters))


@dataclass(frozen=True)
class _Rank:
    pk: uuid.UUID
    child_id: uuid.UUID
    group: str | None
    preferred: bool
    # Whether it misses its NEEDED value, the source rank, then the latest as-at date, the
    # highest confidence, and at last the source record's id (derived from the source's
    # reference: the same in every load).
    key: tuple[bool, int, int, float, uuid.UUID]


def _ranking(
    model: type[models.Model], child_ids: Sequence[uuid.UUID], group_by: str | None, **filters: Any
) -> list[_Rank]:
    """Just what survivorship needs, as tuples: no sealed columns, no model instances."""
    needed = NEEDED.get(model)
    missing: Any = Value(False)
    if needed:
        missing = ExpressionWrapper(Q(**{f"{needed}__isnull": True}), models.BooleanField())
    rows = (
        model._default_manager.filter(child_id__in=child_ids, **filters)
        .annotate(missing=missing)
        .values_list(
            "id",
            "child_id",
            group_by or "child_id",
            "preferred",
            "confidence",
            "source_record__source__rank",
            "source_record__as_at",
            "source_record_id",
            "missing",
        )
    )
    return [
        _Rank(
            pk,
            child,
            group if group_by else None,
            preferred,
            (bool(missing), rank, -as_at.toordinal(), -confidence, record),
        )
        for pk, child, group, preferred, confidence, rank, as_at, record, missing in rows
    ]


def choose_preferred(child_ids: Sequence[uuid.UUID]) -> None:
    """Mark the survivor of each fact kind for each child, clearing the rest."""
    for model, filters, group_by in RANKED:
        ranking = _ranking(model, child_ids, group_by, **filters)
        winners = _survivors(ranking)
        losers = [f.pk for f in ranking if f.preferred and f.pk not in winners]
        gained = [f.pk for f in ranking if not f.preferred and f.pk in winners]
        manager = model._default_manager
        for start in range(0, max(len(losers), len(gained)), 500):
            manager.filter(pk__in=losers[start : start + 500]).update(preferred=False)
            manager.filter(pk__in=gained[start : start + 500]).update(preferred=True)


def _survivors(ranking: Iterable[_Rank]) -> set[uuid.UUID]:
    """The preferred fact of each child and group: the one with the lowest key."""
    groups: dict[tuple[Any, ...], list[_Rank]] = defaultdict(list)
    for fact in ranking:
        groups[(fact.child_id, fact.group)].append(fact)
    return {min(group, key=lambda f: f.key).pk for group in groups.values()}


def _opened(
    model: type[models.Model],
    child_ids: Sequence[uuid.UUID],
    ciphers: Mapping[uuid.UUID, Any],
    columns: tuple[str, ...],
    extra: tuple[str, ...] = (),
    **filters: Any,
) -> list[tuple[Any, ...]]:
    """Rows of (child id, *extra values, *opened columns) for children whose key exists."""
    rows = model._default_manager.filter(child_id__in=child_ids, **filters).values_list(
        "id", "child_id", *extra, *columns
    )
    opened = []
    for pk, child, *rest in rows:
        if (cipher := ciphers.get(child)) is None:
            continue
        plain = rest[: len(extra)]
        sealed = rest[len(extra) :]
        values = [cipher.open(model, c, pk, v) for c, v in zip(columns, sealed, strict=True)]
        opened.append((child, *plain, *values))
    return opened


def rebuild_indexes(child_ids: Sequence[uuid.UUID]) -> None:
    """Recompute every blind index entry of these children from their facts."""
    ciphers = ciphers_for(set(child_ids))
    wanted = index_entries(
        _opened(ChildDemographic, child_ids, ciphers, ("date_of_birth",)),
        _opened(ChildAddress, child_ids, ciphers, ("postcode",), kind="current"),
        _opened(ChildIdentifier, child_ids, ciphers, ("value",), ("scheme",)),
        _opened(ChildName, child_ids, ciphers, ("given_name", "family_name")),
    )
    # Most refreshes change few entries: delete and add only the difference.
    stored = set(
        BlindIndexEntry.objects.filter(child_id__in=child_ids).values_list(
            "child_id", "index", "value"
        )
    )
    # The primary key, (index, value, child), names each stale entry.
    stale = [(index, value, child) for child, index, value in stored - wanted]
    for start in range(0, len(stale), 500):
        BlindIndexEntry.objects.filter(pk__in=stale[start : start + 500]).delete()
    _insert_entries(wanted - stored)


def index_entries(
    births: Iterable[tuple[Any, ...]],
    addresses: Iterable[tuple[Any, ...]],
    identifiers: Iterable[tuple[Any, ...]],
    child_names: Iterable[tuple[Any, ...]],
) -> set[tuple[uuid.UUID, int, int]]:
    """Every blind index entry (child, index, value) of the children these facts are about.

    Args:
        births: (child, ISO date of birth or None) of each demographic fact.
        addresses: (child, postcode or None) of each current address.
        identifiers: (child, scheme, value or None) of each identifier.
        child_names: (child, given name, family name) of each name, current or former.
    """
    entries: dict[uuid.UUID, set[tuple[blind_index.Index, int]]] = defaultdict(set)
    dates: dict[uuid.UUID, set[dt.date]] = defaultdict(set)
    districts: dict[uuid.UUID, set[Any]] = defaultdict(set)
    for child, iso in births:
        if iso:
            dates[child].add(dt.date.fromisoformat(iso))
    for child, pc in addresses:
        with contextlib.suppress(InvalidIdentifier):
            districts[child].add(parse_postcode(pc or ""))
    for child, scheme, value in identifiers:
        if value:
            entries[child] |= blind_index.identifier_entries(scheme, value)
    for child, given, family in child_names:
        for birth in dates[child] or [None]:
            for postcode in districts[child] or [None]:
                entries[child] |= blind_index.name_entries(
                    given or "", family or "", birth, postcode
                )
    for child, days in dates.items():
        for day in days:
            for place in districts[child]:
                entries[child] |= blind_index.place_entries(day, place.district)
    return {(child, int(i), v) for child, pairs in entries.items() for i, v in pairs}


def choose_new(writer: FactWriter, source_ranks: dict[int, int]) -> Inserter:
    """The golden record of children whose every fact is in `writer`, chosen in memory.

    For a bulk first load: the survivors and the blind index entries are chosen from the
    values in memory, exactly as `refresh` chooses them from the database afterwards
    (tests/functional/ingest/test_bulk_load.py proves it), without reading anything back. Each
    pending fact's `preferred` is set; nothing is written.

    Args:
        writer: the pending facts, of new children only.
        source_ranks: each source id's survivorship rank.

    Returns:
        The children's blind index entries, ready to insert after their facts.
    """
    winners: set[uuid.UUID] = set()
    for model, filters, group_by in RANKED:
        ranking = [
            _Rank(
                fact.values["id"],
                fact.values["child_id"],
                fact.values[group_by] if group_by else None,
                False,
                (
                    model in NEEDED and not fact.opened[NEEDED[model]],
                    source_ranks[fact.source_id],
                    -fact.as_at.toordinal(),
                    -fact.values["confidence"],
                    fact.values["source_record_id"],
                ),
            )
            for fact in writer.pending
            if fact.model is model and all(fact.values[k] == v for k, v in filters.items())
        ]
        winners |= _survivors(ranking)
    for fact in writer.pending:
        fact.values["preferred"] = fact.values["id"] in winners
    return _entries(index_entries(*_pending_facts(writer.pending)))


def _pending_facts(pending: list[PendingFact]) -> tuple[list[tuple[Any, ...]], ...]:
    """The arguments of index_entries from facts not yet written."""
    births, addresses, identifiers, child_names = [], [], [], []
    for fact in pending:
        child, v, opened = fact.values["child_id"], fact.values, fact.opened
        if fact.model is ChildDemographic:
            births.append((child, opened["date_of_birth"]))
        elif fact.model is ChildAddress and v["kind"] == "current":
            addresses.append((child, opened["postcode"]))
        elif fact.model is ChildIdentifier:
            identifiers.append((child, v["scheme"], opened["value"]))
        elif fact.model is ChildName:
            child_names.append((child, opened["given_name"], opened["family_name"]))
    return births, addresses, identifiers, child_names


def _insert_entries(entries: Iterable[tuple[uuid.UUID, int, int]]) -> None:
    _entries(entries).flush()


def _entries(entries: Iterable[tuple[uuid.UUID, int, int]]) -> Inserter:
    inserter = Inserter(BlindIndexEntry, ("child_id", "index", "value"))
    inserter.add_many(entries)
    return inserter


def refresh(child_ids: Iterable[uuid.UUID]) -> None:
    ids = sorted(set(child_ids), key=str)
    for start in range(0, len(ids), 400):
        chunk = ids[start : start + 400]
        choose_preferred(chunk)
        rebuild_indexes(chunk)


@dataclass(frozen=True, order=True)
class Provenance:
    source: str
    as_at: dt.date
    confidence: float


@dataclass(frozen=True, order=True)
class Field:
    value: str
    provenance: Provenance


@dataclass(frozen=True, order=True)
class CarerView:
    relationship: str
    parental_responsibility: bool | None
    given_name: Field | None
    family_name: Field | None
    phone: Field | None
    email: Field | None


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
    carers: tuple[CarerView, ...]


def _field(cipher: Any, fact: Any | None, column: str) -> Field | None:
    if fact is None:
        return None
    value = cipher.open_field(fact, column)
    if value is None:
        return None
    sr = fact.source_record
    return Field(value, Provenance(sr.source.code, sr.as_at, fact.confidence))


def _carer(cipher: Any, carer: Any) -> CarerView:
    return CarerView(
        cipher.open_fixed(carer, "relationship"),
        carer.parental_responsibility,
        *(_field(cipher, carer, k) for k in ("given_name", "family_name", "phone", "email")),
    )


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
        former_family_names=tuple(
            sorted(f for n in former if (f := _field(cipher, n, "family_name")))
        ),
        date_of_birth=_field(cipher, demo, "date_of_birth"),
        sex=_field(cipher, demo, "sex"),
        postcode=_field(cipher, address, "postcode"),
        address_line1=_field(cipher, address, "line1"),
        nhs_number=_field(cipher, ids["nhs_number"], "value"),
        upn=_field(cipher, ids["upn"], "value"),
        carers=tuple(sorted((_carer(cipher, c) for c in carers), key=repr)),
    )


@dataclass(frozen=True)
class Summary:
    """What a search result shows before a child is chosen (and what it is chosen from)."""

    given_name: str
    family_name: str
    date_of_birth: dt.date | None
    postcode: str | None


def summaries(
    child_ids: Iterable[uuid.UUID], ciphers: Mapping[uuid.UUID, ChildCipher] | None = None
) -> dict[uuid.UUID, Summary]:
    """The preferred name, date of birth and postcode of each child, in three queries.

    A child whose data key is gone (shredded) is left out. `ciphers`, when the caller has
    them already (search), saves unwrapping the same data keys again.
    """
    ids = list(set(child_ids))
    if ciphers is None:
        ciphers = ciphers_for(set(ids))
    else:
        ciphers = {c: ciphers[c] for c in ids if c in ciphers}
    named = {
        child: (given or "", family or "")
        for child, given, family in _opened(
            ChildName, ids, ciphers, ("given_name", "family_name"), kind="current", preferred=True
        )
    }
    births = {
        child: dt.date.fromisoformat(iso) if iso else None
        for child, iso in _opened(
            ChildDemographic, ids, ciphers, ("date_of_birth",), preferred=True
        )
    }
    places = dict(
        _opened(ChildAddress, ids, ciphers, ("postcode",), kind="current", preferred=True)
    )
    return {
        child: Summary(*named.get(child, ("", "")), births.get(child), places.get(child))
        for child in ciphers
    }
