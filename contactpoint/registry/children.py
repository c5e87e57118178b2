"""Create children, find them by identifier, and write the facts a source record holds."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from contactpoint.keystore import service as keys
from contactpoint.lib import dates, names
from contactpoint.lib.identifiers import new_cpid
from contactpoint.registry import blind_index, shield_tags
from contactpoint.registry.blind_index import Index
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.inserts import Inserter
from contactpoint.registry.models import (
    BlindIndexEntry,
    Carer,
    Child,
    ChildAddress,
    ChildDemographic,
    ChildIdentifier,
    ChildName,
    SourceRecord,
)

RELATIONSHIP_SIZE = 20  # a carer's relationship, padded: the longest code has 16 bytes


def issue_cpids(count: int) -> list[str]:
    """`count` contactpoint IDs no child has, for children about to be created.

    With 60 random bits a clash with the 11 million issued is about 1 in 10^11 per ID, but
    it is checked anyway: an ID is never reused, even one whose child was purged (a child's
    row is never deleted, so its ID stays taken). The unique `registry_child.cpid` refuses
    an ID another transaction gave a child meanwhile.
    """
    issued: set[str] = set()
    while len(issued) < count:
        fresh = {new_cpid() for _ in range(count - len(issued))} - issued
        fresh -= set(Child.objects.filter(cpid__in=list(fresh)).values_list("cpid", flat=True))
        issued |= fresh
    return sorted(issued)


def create_children(ids: list[uuid.UUID]) -> list[tuple[Child, bytes]]:
    """Create children with these ids, each with a data key committed to the key store first
    (an existing key for the same id, left by an interrupted run, is reused)."""
    data_keys = keys.ensure_data_keys(ids)
    children = [Child(id=i, cpid=c) for i, c in zip(ids, issue_cpids(len(ids)), strict=True)]
    Child.objects.bulk_create(children)
    return [(c, data_keys[c.id]) for c in children]


def ciphers_for(owner_ids: set[uuid.UUID]) -> dict[uuid.UUID, ChildCipher]:
    """Ciphers for every owner whose data key still exists (shredded ones are absent)."""
    return {o: ChildCipher(o, k) for o, k in keys.data_keys(owner_ids).items()}


@dataclass
class PendingFact:
    """A fact row not yet written: its columns, and the plain values it seals."""

    model: type[models.Model]
    values: dict[str, Any]  # attribute name to value, as the row is written
    opened: dict[str, str | None]  # each sealed column's value, as opening it would give
    source_id: int
    as_at: dt.date


class FactWriter:
    """Collects the fact rows of many source records and writes them in bulk."""

    def __init__(self) -> None:
        self.pending: list[PendingFact] = []

    def add(
        self, cipher: ChildCipher, sr: SourceRecord, record: FeedRecord, confidence: float
    ) -> None:
        """Seal every fact the record states about its child."""
        fact = functools.partial(self._fact, cipher, sr, confidence)
        birth = record.date_of_birth.isoformat() if record.date_of_birth else None
        fact(ChildDemographic, {}, date_of_birth=birth, sex=record.sex)
        fact(
            ChildName,
            {"kind": "current"},
            given_name=record.given_name,
            middle_names=record.middle_names,
            family_name=record.family_name,
        )
        if record.former_family_name:
            fact(
                ChildName,
                {"kind": "former"},
                given_name=record.given_name,
                middle_names=None,
                family_name=record.former_family_name,
            )
        if record.address_line1 or record.postcode:
            postcode = str(record.postcode) if record.postcode else None
            fact(
                ChildAddress,
                {"kind": "current"},
                line1=record.address_line1,
                line2=record.address_line2,
                town=record.town,
                postcode=postcode,
            )
        for scheme in ("nhs_number", "upn"):
            if value := getattr(record, scheme):
                fact(ChildIdentifier, {"scheme": scheme}, value=value)
        for c in record.carers:
            fact(
                Carer,
                {"parental_responsibility": c.parental_responsibility},
                fixed={"relationship": (c.relationship, RELATIONSHIP_SIZE)},
                given_name=c.given_name,
                family_name=c.family_name,
                phone=c.phone,
                email=c.email,
            )

    def _fact(
        self,
        cipher: ChildCipher,
        sr: SourceRecord,
        confidence: float,
        model: type[models.Model],
        plain: dict[str, object],
        fixed: dict[str, tuple[str, int]] | None = None,
        **sealed: str | None,
    ) -> None:
        row_id = uuid.uuid4()
        values: dict[str, Any] = {
            "id": row_id,
            "child_id": cipher.owner_id,
            "source_record_id": sr.pk,
            "confidence": confidence,
            **plain,
        }
        values |= {k: cipher.seal(model, k, row_id, v) for k, v in sealed.items()}
        for column, (value, size) in (fixed or {}).items():
            values[column] = cipher.seal_fixed(model, column, row_id, value, size)
        opened = {k: v or None for k, v in sealed.items()}  # seal keeps no empty value
        self.pending.append(PendingFact(model, values, opened, sr.source_id, sr.as_at))

    def flush(self) -> None:
        """Insert every pending fact (`preferred` as each row says, else false)."""
        for inserter in self.inserters():
            inserter.flush()

    def inserters(self) -> list[Inserter]:
        """Every pending fact as rows ready to insert (nothing is written yet), and none
        pending any more: the preparation, apart from the database's own work."""
        inserters: dict[tuple[type[models.Model], tuple[str, ...]], Inserter] = {}
        for fact in self.pending:
            key = (fact.model, tuple(fact.values))
            if key not in inserters:
                inserters[key] = Inserter(fact.model, key[1])
            inserters[key].add(*fact.values.values())
        self.pending.clear()
        return list(inserters.values())


def retire_facts(changed: dict[uuid.UUID, dt.date]) -> None:
    """Drop what changed source records used to say; keep their addresses as history.

    Args:
        changed: source record id to the as-at date of its new version, which is when
            the address it replaces stopped being current.
    """
    ids = list(changed)
    for model in (ChildDemographic, ChildName, ChildIdentifier, Carer):
        model._default_manager.filter(source_record_id__in=ids).delete()
    for as_at in set(changed.values()):
        ChildAddress.objects.filter(
            source_record_id__in=[i for i, d in changed.items() if d == as_at], kind="current"
        ).update(kind="previous", preferred=False, ended_on=as_at)


@dataclass
class _Known:
    births: set[str]
    raw_names: set[tuple[str, str]] = field(default_factory=set)


def _known_children(child_ids: set[uuid.UUID]) -> dict[uuid.UUID, _Known]:
    ciphers = ciphers_for(child_ids)
    known = {c: _Known(set()) for c in ciphers}
    for n in ChildName.objects.filter(child_id__in=list(ciphers)):
        given = ciphers[n.child_id].open_field(n, "given_name") or ""
        family = ciphers[n.child_id].open_field(n, "family_name") or ""
        known[n.child_id].raw_names.add((given, family))
    for d in ChildDemographic.objects.filter(child_id__in=list(ciphers)):
        known[d.child_id].births.add(ciphers[d.child_id].open_field(d, "date_of_birth") or "")
    return known


def near_shielded(records: list[FeedRecord]) -> list[bool]:
    """For each record, whether it might be a shielded child it did not link to.

    Looser than a match on purpose: the same date of birth (or day and month swapped) and
    the same phonetic family name or given name as a shielded child. Such a record must not
    become a new, visible child: ContactPoint's feeds published unshielded duplicates of
    children in hiding exactly this way.
    """
    wanted: list[set[tuple[int, int]]] = []
    for record in records:
        keys = names.family_name_keys(record.family_name) | names.family_name_keys(
            record.former_family_name
        )
        given = names.given_name_key(record.given_name)
        digests = set()
        # Without a date of birth the net has nothing to hold on: such a record never
        # founds a child on its own, so it cannot publish a shielded child's duplicate.
        birth_date = record.date_of_birth
        for birth in dates.birth_date_variants(birth_date) if birth_date else set():
            iso = birth.isoformat()
            digests |= {
                (int(Index.BIRTH_DATE_FAMILY), blind_index.digest(Index.BIRTH_DATE_FAMILY, iso, k))
                for k in keys
            }
            if given:
                digests.add(
                    (
                        int(Index.BIRTH_DATE_GIVEN),
                        blind_index.digest(Index.BIRTH_DATE_GIVEN, iso, given),
                    )
                )
        wanted.append(digests)
    values = {v for digests in wanted for _, v in digests}
    hits: dict[tuple[int, int], set[uuid.UUID]] = defaultdict(set)
    for index, value, child in BlindIndexEntry.objects.filter(
        index__in=[Index.BIRTH_DATE_FAMILY, Index.BIRTH_DATE_GIVEN],
        value__in=list(values),
    ).values_list("index", "value", "child_id"):
        hits[(index, value)].add(child)
    # The children sharing a birth date and a name key with a record, few by construction:
    # which of them are shielded is looked up by their keyed tags (registry/shield_tags.py).
    shielded = shield_tags.shielded_among({c for cs in hits.values() for c in cs})
    hits = {d: cs & shielded for d, cs in hits.items()}
    known = _known_children({c for cs in hits.values() for c in cs})
    near = []
    for record, digests in zip(records, wanted, strict=True):
        candidates = {c for d in digests for c in hits.get(d, set()) if c in known}
        near.append(any(_near(record, known[c]) for c in candidates))
    return near


def _near(record: FeedRecord, known: _Known) -> bool:
    birth = record.date_of_birth
    if birth is None or not dates.birth_date_texts(birth.isoformat()) & known.births:
        return False
    mine = names.loose_keys(record.given_name, record.family_name, record.former_family_name)
    return any(mine & names.loose_keys(g, f) for g, f in known.raw_names)
