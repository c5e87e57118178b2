"""A linked source record's facts are its sealed payload (docs/adr/0013-lean-registry-layout.md).

What a record states about its child (date of birth and sex, current and former name,
current address, identifiers, carers) is read from its payload, opened. Two columns of the
record say the rest:

- `preferred`: a bit per kind of fact (`Kind`) the golden record takes from this record,
  chosen by survivorship (docs/survivorship.md, `choose`);
- `history`: the addresses the record stated before it changed, each with the day it
  stopped being current, sealed under the same key as the payload (null for a record
  whose address never changed).

Provenance is the record itself: its source (sealed beside the payload, `origin`,
registry/origins.py), as-at date and confidence.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contactpoint.keystore import service as keys
from contactpoint.registry import origins, payloads
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.models import SourceRecord


class Kind(enum.IntFlag):
    """The kinds of fact of which the golden record shows one, each a bit of `preferred`."""

    BIRTH = 1  # date of birth and sex
    NAME = 2  # current name
    ADDRESS = 4  # current address
    NHS_NUMBER = 8
    UPN = 16


RANKED = (Kind.BIRTH, Kind.NAME, Kind.ADDRESS, Kind.NHS_NUMBER, Kind.UPN)


def states(record: FeedRecord, kind: Kind) -> bool:
    """Whether the record states a fact of this kind (every record states a name and a
    date of birth, which may be empty)."""
    if kind is Kind.ADDRESS:
        return bool(record.address_line1 or record.postcode)
    if kind is Kind.NHS_NUMBER:
        return bool(record.nhs_number)
    if kind is Kind.UPN:
        return bool(record.upn)
    return True


@dataclass(frozen=True)
class Stated:
    """A linked record, opened: what it states about its child and what ranks it."""

    id: uuid.UUID
    child_id: uuid.UUID
    record: FeedRecord
    source: str  # the source's code, for provenance
    rank: int  # the source's survivorship rank
    as_at: dt.date
    confidence: float
    preferred: int

    def key(self, kind: Kind) -> tuple[bool, int, int, float, uuid.UUID]:
        """Survivorship's order: a record without a date of birth ranks after every one
        with one, whatever its source; then the source's rank, the latest as-at date, the
        highest confidence and the record's id (derived from the source's reference, the
        same in every load)."""
        missing = kind is Kind.BIRTH and self.record.date_of_birth is None
        return (missing, self.rank, -self.as_at.toordinal(), -self.confidence, self.id)

    def prefers(self, kind: Kind) -> bool:
        return bool(self.preferred & kind)


def choose(records: Iterable[Stated]) -> dict[uuid.UUID, int]:
    """The `preferred` bits of each record: for each child and kind, the record stating it
    with the lowest key.

    A child's records are put in the order of their key once: every kind's key is the
    same but for the date of birth's, which only puts a record without one after every
    record with one, so each kind's survivor is the first record in that order that
    states it (for the date of birth, the first that has one, if any does).
    """
    by_child: dict[uuid.UUID, list[Stated]] = defaultdict(list)
    for r in records:
        by_child[r.child_id].append(r)
    bits: dict[uuid.UUID, int] = {}
    for group in by_child.values():
        group.sort(key=_order)
        for r in group:
            bits[r.id] = 0
        for kind in RANKED:
            survivor = next((r for r in group if states(r.record, kind)), None)
            if kind is Kind.BIRTH:
                survivor = next((r for r in group if r.record.date_of_birth is not None), survivor)
            if survivor is not None:
                bits[survivor.id] |= kind.value  # an int: IntFlag's own `|` costs more
    return bits


def _order(r: Stated) -> tuple[int, int, float, uuid.UUID]:
    """`Stated.key` of any kind but the date of birth."""
    return (r.rank, -r.as_at.toordinal(), -r.confidence, r.id)


def ciphers_for(owner_ids: set[uuid.UUID]) -> dict[uuid.UUID, ChildCipher]:
    """Ciphers for every owner whose data key still exists (shredded ones are absent)."""
    return {o: ChildCipher(o, k) for o, k in keys.data_keys(owner_ids).items()}


def opened(
    child_ids: Iterable[uuid.UUID],
    ciphers: Mapping[uuid.UUID, ChildCipher] | None = None,
    preferred_only: bool = False,
) -> dict[uuid.UUID, list[Stated]]:
    """The linked records of these children, opened, by child. A child whose data key is
    gone (shredded) is left out. With `preferred_only`, only the records the golden record
    takes something from."""
    ids = list(set(child_ids))
    if ciphers is None:
        ciphers = ciphers_for(set(ids))
    found: dict[uuid.UUID, list[Stated]] = defaultdict(list)
    sources = origins.sources() if ids else {}
    for start in range(0, len(ids), 500):
        rows = SourceRecord.objects.filter(child_id__in=ids[start : start + 500])
        if preferred_only:
            rows = rows.exclude(preferred=0)
        for pk, child, sealed, origin, as_at, confidence, bits in rows.values_list(
            "id", "child_id", "payload", "origin", "as_at", "confidence", "preferred"
        ):
            if (cipher := ciphers.get(child)) is None:
                continue
            body = payloads.open_payload(cipher, pk, sealed)
            if body is None:
                continue
            record = FeedRecord.from_canonical(json.loads(body))
            source = sources[origins.open_origin(cipher, pk, origin)]
            found[child].append(
                Stated(pk, child, record, source.code, source.rank, as_at, confidence, bits)
            )
    return found


def preferred_of(stated: Sequence[Stated], kind: Kind) -> Stated | None:
    """The record of one child the golden record takes this kind of fact from."""
    return next((s for s in stated if s.prefers(kind)), None)


@dataclass(frozen=True)
class PreviousAddress:
    line1: str
    line2: str
    town: str
    postcode: str
    ended_on: dt.date


def history_of(cipher: ChildCipher, record_id: uuid.UUID, sealed: Any) -> list[PreviousAddress]:
    """The addresses a record stated before, oldest first."""
    text = cipher.open(SourceRecord, "history", record_id, sealed)
    if not text:
        return []
    return [
        PreviousAddress(a, b, c, d, dt.date.fromisoformat(e)) for a, b, c, d, e in json.loads(text)
    ]


def seal_history(
    cipher: ChildCipher, record_id: uuid.UUID, history: Sequence[PreviousAddress]
) -> bytes | None:
    """The history sealed for the record's `history` column (None for none)."""
    if not history:
        return None
    rows = [[h.line1, h.line2, h.town, h.postcode, h.ended_on.isoformat()] for h in history]
    text = json.dumps(rows, separators=(",", ":"), ensure_ascii=False)
    return cipher.seal(SourceRecord, "history", record_id, text)


def retire_address(
    cipher: ChildCipher, sr: SourceRecord, before: FeedRecord, ended_on: dt.date
) -> None:
    """Keep the address a changed record stated (`before`) in its history, ended the day
    of its new version. The caller saves the record."""
    if not states(before, Kind.ADDRESS):
        return
    previous = PreviousAddress(
        before.address_line1 or "",
        before.address_line2 or "",
        before.town or "",
        str(before.postcode) if before.postcode else "",
        ended_on,
    )
    history = history_of(cipher, sr.pk, sr.history)
    sr.history = seal_history(cipher, sr.pk, [*history, previous])
