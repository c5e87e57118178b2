"""Involvements that feeds keep current (school and GP); a practitioner registers their own
through contactpoint/practice/involvements/__init__.py."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from contactpoint.registry import involvement_facts
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.inserts import Inserter
from contactpoint.registry.involvement_facts import InvolvementFacts
from contactpoint.registry.models import Involvement, Organisation

COLUMNS = (
    "id",
    "child_id",
    "member",
    "area_member",
    "facts",
    "slot",
    "last_confirmed",
    "source_record_id",
)


LAST_CONFIRMED = COLUMNS.index("last_confirmed")
Row = list[Any]  # a new involvement's values, in the order of COLUMNS


def organisation_ids(codes: set[str]) -> dict[str, int]:
    rows = Organisation.objects.filter(code__in=list(codes)).values_list("code", "id")
    return dict(rows)


def council_areas(ids: Iterable[int] | None = None) -> dict[int, str]:
    """Each organisation's council area code ("" for none), by id: those of `ids`, or all."""
    rows = (
        Organisation.objects.all() if ids is None else Organisation.objects.filter(id__in=list(ids))
    )
    return {pk: code or "" for pk, code in rows.values_list("id", "council_area__code")}


class FeedInvolvements:
    """Opens, confirms and ends the involvements a batch of feed records states.

    Each record says "this child is involved with this organisation in this role, as at this
    date". An open involvement for the same child, organisation and role is confirmed; one
    that this source record opened for another organisation (a pupil who moved school) is
    ended on the record's as-at date.

    A new involvement is made as a row of values, sealed with its child's cipher, and
    inserted as a tuple: no model instance, no value prepared by Django (ADR 0004).
    """

    def __init__(self, organisations: dict[str, int], areas: dict[int, str] | None = None) -> None:
        """Args: organisations: code to id for every org_code the records name; areas: the
        council area code of each (`council_areas`), when the caller has them already."""
        self.organisations = organisations
        self.areas = areas
        self.items: list[tuple[ChildCipher, uuid.UUID, FeedRecord]] = []

    def _area(self, org_id: int) -> str:
        """The organisation's council area code (all fetched once per instance)."""
        if self.areas is None:
            self.areas = council_areas(set(self.organisations.values()))
        return self.areas[org_id]

    def add(self, cipher: ChildCipher, record_id: uuid.UUID, record: FeedRecord) -> None:
        """Queue a feed record (`record_id`: its source record's) of the cipher's owner."""
        self.items.append((cipher, record_id, record))

    def flush(self) -> None:
        children = {c.owner_id for c, _, _ in self.items}
        open_rows = Involvement.objects.filter(child_id__in=list(children), end_date__isnull=True)
        new, confirmed, ended = self._changes(list(open_rows))
        for as_at, ids in ended.items():
            Involvement.objects.filter(pk__in=list(ids)).update(end_date=as_at, ending="moved")
        _inserter(new).flush()
        Involvement.objects.bulk_update(confirmed.values(), ["last_confirmed"], batch_size=500)

    def new_children(self) -> Inserter:
        """For records of children created in the same transaction (a bulk first load): no
        involvement can be open yet, so nothing is read; the new rows, ready to insert."""
        new, _, _ = self._changes([])
        return _inserter(new)

    def _changes(
        self, open_rows: list[Involvement]
    ) -> tuple[list[Row], dict[uuid.UUID, Involvement], dict[dt.date, set[uuid.UUID]]]:
        """What the records do to the children's open involvements: new ones, confirmed
        ones and, by end date, ended ones. The items are used up."""
        orgs = self.organisations
        ciphers = {c.owner_id: c for c, _, _ in self.items}
        # By slot, the keyed digest of child, organisation and role: found without opening.
        by_key: dict[bytes, Involvement] = {}
        by_record: dict[uuid.UUID, list[Involvement]] = defaultdict(list)
        for inv in open_rows:
            by_key[bytes(inv.slot)] = inv
            if inv.source_record_id:
                # Which organisation the record stated before: sealed, opened with the key.
                involvement_facts.open_link(ciphers[inv.child_id], inv)
                by_record[inv.source_record_id].append(inv)
        new: dict[bytes, Row] = {}
        confirmed: dict[uuid.UUID, Involvement] = {}
        ended: dict[dt.date, set[uuid.UUID]] = defaultdict(set)
        for cipher, record_id, record in self.items:
            org_id = orgs.get(record.org_code)
            for inv in by_record[record_id]:
                if inv.organisation_id != org_id:
                    ended[record.as_at].add(inv.pk)
            if org_id is None:
                continue
            key = involvement_facts.slot(cipher.owner_id, org_id, record.org_role)
            current, made = by_key.get(key), new.get(key)
            if current is None and made is None:
                new[key] = self._new(cipher, record_id, record, org_id, key)
            elif made is not None:  # stated again in this batch: confirmed before it is written
                made[LAST_CONFIRMED] = max(made[LAST_CONFIRMED], record.as_at)
            elif current is not None and current.last_confirmed < record.as_at:
                current.last_confirmed = record.as_at
                confirmed[current.pk] = current
        self.items.clear()
        return list(new.values()), confirmed, ended

    def _new(
        self,
        cipher: ChildCipher,
        record_id: uuid.UUID,
        record: FeedRecord,
        org_id: int,
        slot: bytes,
    ) -> Row:
        """A new involvement's row, as at the record's date (`slot`: its digest)."""
        pk = uuid.uuid4()
        facts = _stating(record.org_role)
        start = record.involvement_start
        area = self._area(org_id)
        values = involvement_facts.sealed(cipher, pk, facts, org_id, None, area, start, slot)
        row = [pk, cipher.owner_id, values.member, values.area_member, values.facts, slot]
        return [*row, record.as_at, record_id]


@functools.cache
def _stating(role: str) -> InvolvementFacts:
    """What a feed states of an involvement: its role alone (one instance a role)."""
    return InvolvementFacts(role)


def _inserter(new: list[Row]) -> Inserter:
    inserter = Inserter(Involvement, COLUMNS)
    inserter.add_many(new)
    return inserter
