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
import gc
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
    wanted = set(index_entries(s for group in stated.values() for s in group))
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


def index_entries(stated: Iterable[Stated]) -> list[tuple[uuid.UUID, int, int]]:
    """Every blind index entry (child, index, value) of the children these records are
    about, each once.

    Each name a child's records state (current or former) is indexed with each of their
    dates of birth and postcode districts, and each date of birth with each district
    (blind_index.Entries); each identifier on its own.
    """
    facts: dict[uuid.UUID, _Facts] = {}
    districts: dict[str, str | None] = {}  # by postcode: parsed once
    for s in stated:
        if (f := facts.get(s.child_id)) is None:
            f = facts[s.child_id] = _Facts(set(), set(), set(), set())
        r = s.record
        if r.date_of_birth:
            f.dates.add(r.date_of_birth.isoformat())
        if r.postcode:
            postcode = str(r.postcode)
            if postcode not in districts:
                districts[postcode] = _district(postcode)
            if (district := districts[postcode]) is not None:
                f.districts.add(district)
        if r.nhs_number:
            f.identifiers.add(("nhs_number", r.nhs_number))
        if r.upn:
            f.identifiers.add(("upn", r.upn))
        f.names.add((r.given_name or "", r.family_name or ""))
        if r.former_family_name:
            f.names.add((r.given_name or "", r.former_family_name))
    made = blind_index.Entries()
    return [
        (child, index, value)
        for child, f in facts.items()
        for index, value in made.of_child(f.dates, f.districts, f.names, f.identifiers)
    ]


@dataclass
class _Facts:
    """What a child's blind index entries are made of, gathered from its records."""

    dates: set[str]
    districts: set[str]
    names: set[tuple[str, str]]
    identifiers: set[tuple[str, str]]


def _district(postcode: str) -> str | None:
    try:
        return parse_postcode(postcode).district
    except InvalidIdentifier:
        return None


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
    with _collector_paused():
        return choose(stated), _entries(index_entries(stated))


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a computation that makes no cycles.

    Choosing a chunk's golden records makes tens of thousands of small objects (tuples,
    sets, strings) that the collector would otherwise scan again and again, along with
    everything else the loading process holds; that scanning cost about as much as the
    computation itself (docs/benchmarks.md). Reference counting still frees what is
    dropped; the collector resumes after, and finds nothing of this to collect.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


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
