"""The golden record: choose the preferred record of each kind of fact and rebuild the
blind indexes.

A record's facts are its sealed payload (registry/record_facts.py). Survivorship
(docs/survivorship.md): among the records stating a kind of fact, the source with the lowest
rank wins, then the most recent as-at date, then the highest confidence; the winner's
`preferred` bit for that kind is set. Every field keeps its provenance (the record's source,
as-at date and confidence), so the golden record can say where each field came from.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from contactpoint.lib.identifiers import InvalidIdentifier, parse_postcode
from contactpoint.registry import blind_index
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.inserts import Inserter
from contactpoint.registry.models import BlindIndexEntry, SourceRecord
from contactpoint.registry.record_facts import (
    RANKED,
    Kind,
    Stated,
    choose,
    ciphers_for,
    opened,
    preferred_of,
)

BIRTH, NAME, ADDRESS = Kind.BIRTH, Kind.NAME, Kind.ADDRESS


def choose_preferred(stated: Mapping[uuid.UUID, Sequence[Stated]]) -> None:
    """Set the survivors' bits of these children's opened records, clearing the rest."""
    records = [s for group in stated.values() for s in group]
    chosen = choose(records)
    changed: dict[int, list[uuid.UUID]] = defaultdict(list)
    for s in records:
        if chosen[s.id] != s.preferred:
            changed[chosen[s.id]].append(s.id)
    for bits, ids in changed.items():
        for start in range(0, len(ids), 500):
            SourceRecord.objects.filter(pk__in=ids[start : start + 500]).update(preferred=bits)


def rebuild_indexes(child_ids: Sequence[uuid.UUID]) -> None:
    """Recompute every blind index entry of these children from their records."""
    _rebuild(child_ids, opened(child_ids))


def _rebuild(child_ids: Sequence[uuid.UUID], stated: Mapping[uuid.UUID, Sequence[Stated]]) -> None:
    wanted = index_entries(*stated_facts(s for group in stated.values() for s in group))
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


def stated_facts(stated: Iterable[Stated]) -> tuple[list[tuple[Any, ...]], ...]:
    """The arguments of index_entries from opened records."""
    births, addresses, identifiers, child_names = [], [], [], []
    for s in stated:
        child, r = s.child_id, s.record
        births.append((child, r.date_of_birth.isoformat() if r.date_of_birth else None))
        if r.postcode:
            addresses.append((child, str(r.postcode)))
        for scheme in ("nhs_number", "upn"):
            if value := getattr(r, scheme):
                identifiers.append((child, scheme, value))
        child_names.append((child, r.given_name, r.family_name))
        if r.former_family_name:
            child_names.append((child, r.given_name, r.former_family_name))
    return births, addresses, identifiers, child_names


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


def choose_new(stated: Sequence[Stated]) -> tuple[dict[uuid.UUID, int], Inserter]:
    """The golden record of children whose every record is in `stated`, chosen in memory.

    For a bulk first load: the survivors and the blind index entries are chosen from the
    records in memory, exactly as `refresh` chooses them from the database afterwards
    (tests/functional/ingest/test_bulk_load.py proves it), without reading anything back.
    Nothing is written.

    Returns:
        Each record's `preferred` bits, and the children's blind index entries, ready to
        insert after their records.
    """
    return choose(stated), _entries(index_entries(*stated_facts(stated)))


def _insert_entries(entries: Iterable[tuple[uuid.UUID, int, int]]) -> None:
    _entries(entries).flush()


def _entries(entries: Iterable[tuple[uuid.UUID, int, int]]) -> Inserter:
    inserter = Inserter(BlindIndexEntry, ("child_id", "index", "value"))
    inserter.add_many(entries)
    return inserter


def refresh(child_ids: Iterable[uuid.UUID]) -> None:
    """Choose these children's golden records again and rebuild their blind indexes, each
    record's payload opened once for both."""
    ids = sorted(set(child_ids), key=str)
    for start in range(0, len(ids), 400):
        chunk = ids[start : start + 400]
        stated = opened(chunk)
        choose_preferred(stated)
        _rebuild(chunk, stated)


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
    # The source code of each linked record opened, by record id: what a feed involvement
    # names as the record that keeps it (the source is sealed in the record's `origin`).
    record_sources: dict[uuid.UUID, str] = field(default_factory=dict, compare=False)


def _provenance(s: Stated) -> Provenance:
    return Provenance(s.source, s.as_at, s.confidence)


def _field(s: Stated | None, value: Any) -> Field | None:
    """A value of the record `s` with its provenance; None for no record or no value."""
    if s is None or not value:
        return None
    return Field(str(value), _provenance(s))


def _carers(stated: Sequence[Stated]) -> list[CarerView]:
    return [
        CarerView(
            c.relationship,
            c.parental_responsibility,
            *(_field(s, getattr(c, k)) for k in ("given_name", "family_name", "phone", "email")),
        )
        for s in stated
        for c in s.record.carers
    ]


def golden_record(child_id: uuid.UUID) -> GoldenRecord | None:
    """Open a child's records. None when the child's data key is gone (shredded)."""
    ciphers = ciphers_for({child_id})
    if child_id not in ciphers:
        return None
    stated = opened([child_id], ciphers).get(child_id, [])
    birth, name, address, nhs, upn = (preferred_of(stated, k) for k in RANKED)
    return GoldenRecord(
        child_id=child_id,
        given_name=_field(name, name and name.record.given_name),
        family_name=_field(name, name and name.record.family_name),
        former_family_names=tuple(
            sorted(f for s in stated if (f := _field(s, s.record.former_family_name)))
        ),
        date_of_birth=_field(birth, birth and birth.record.date_of_birth),
        sex=_field(birth, birth and birth.record.sex),
        postcode=_field(address, address and address.record.postcode),
        address_line1=_field(address, address and address.record.address_line1),
        nhs_number=_field(nhs, nhs and nhs.record.nhs_number),
        upn=_field(upn, upn and upn.record.upn),
        carers=tuple(sorted(_carers(stated), key=repr)),
        record_sources={s.id: s.source for s in stated},
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
    """The preferred name, date of birth and postcode of each child, from the records the
    golden record takes them from (one query).

    A child whose data key is gone (shredded) is left out. `ciphers`, when the caller has
    them already (search), saves unwrapping the same data keys again.
    """
    ids = list(set(child_ids))
    if ciphers is None:
        ciphers = ciphers_for(set(ids))
    else:
        ciphers = {c: ciphers[c] for c in ids if c in ciphers}
    found = {
        child: summary_of([(s.preferred, s.record) for s in stated])
        for child, stated in opened(ids, ciphers, preferred_only=True).items()
    }
    return {child: found.get(child, summary_of([])) for child in ciphers}


def summary_of(preferred: Sequence[tuple[int, FeedRecord]]) -> Summary:
    """A child's summary from the records its golden record takes something from, each
    with its `preferred` bits (record_facts.Kind)."""
    name, birth, address = (
        next((r for bits, r in preferred if bits & kind), None) for kind in (NAME, BIRTH, ADDRESS)
    )
    return Summary(
        name.given_name if name else "",
        name.family_name if name else "",
        birth.date_of_birth if birth else None,
        str(address.postcode) if address and address.postcode else None,
    )
