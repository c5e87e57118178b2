"""Involvements that feeds keep current (school and GP); a practitioner registers their own
through contactpoint/practice/involvements/__init__.py."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from contactpoint.registry import involvement_facts
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.inserts import Inserter
from contactpoint.registry.involvement_facts import InvolvementFacts
from contactpoint.registry.models import Involvement, Organisation, SourceRecord

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


def organisation_ids(codes: set[str]) -> dict[str, int]:
    rows = Organisation.objects.filter(code__in=list(codes)).values_list("code", "id")
    return dict(rows)


class FeedInvolvements:
    """Opens, confirms and ends the involvements a batch of feed records states.

    Each record says "this child is involved with this organisation in this role, as at this
    date". An open involvement for the same child, organisation and role is confirmed; one
    that this source record opened for another organisation (a pupil who moved school) is
    ended on the record's as-at date.
    """

    def __init__(self, organisations: dict[str, int]) -> None:
        """Args: organisations: code to id for every org_code the records name."""
        self.organisations = organisations
        self.rows: dict[int, Organisation] = {}
        self.items: list[tuple[ChildCipher, SourceRecord, FeedRecord]] = []

    def _organisation(self, org_id: int) -> Organisation:
        """The organisation, with its council area (each fetched once per instance)."""
        if org_id not in self.rows:
            with_area = Organisation.objects.select_related("council_area")
            self.rows |= with_area.in_bulk(set(self.organisations.values()))
        return self.rows[org_id]

    def add(self, cipher: ChildCipher, sr: SourceRecord, record: FeedRecord) -> None:
        self.items.append((cipher, sr, record))

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
    ) -> tuple[list[Involvement], dict[uuid.UUID, Involvement], dict[dt.date, set[uuid.UUID]]]:
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
        new: list[Involvement] = []
        confirmed: dict[uuid.UUID, Involvement] = {}
        ended: dict[dt.date, set[uuid.UUID]] = defaultdict(set)
        for cipher, sr, record in self.items:
            org_id = orgs.get(record.org_code)
            for inv in by_record[sr.pk]:
                if inv.organisation_id != org_id:
                    ended[record.as_at].add(inv.pk)
            if org_id is None:
                continue
            key = involvement_facts.slot(cipher.owner_id, org_id, record.org_role)
            current = by_key.get(key)
            if current is None:
                by_key[key] = _new(cipher, sr, record, self._organisation(org_id))
                new.append(by_key[key])
            elif current.last_confirmed < record.as_at:
                current.last_confirmed = record.as_at
                confirmed[current.pk] = current
        self.items.clear()
        return new, confirmed, ended


def _inserter(new: list[Involvement]) -> Inserter:
    inserter = Inserter(Involvement, COLUMNS)
    for inv in new:
        inserter.add_instance(inv)
    return inserter


def _new(
    cipher: ChildCipher, sr: SourceRecord, record: FeedRecord, org: Organisation
) -> Involvement:
    involvement = Involvement(
        id=uuid.uuid4(), child_id=cipher.owner_id, last_confirmed=record.as_at, source_record=sr
    )
    involvement.organisation = org
    facts = InvolvementFacts(record.org_role)
    involvement_facts.seal(cipher, involvement, facts, record.involvement_start)
    return involvement
