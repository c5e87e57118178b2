"""Candidate children through the blind indexes, for search and real-time matching alike.

What is sought becomes blind-index keys here, in the application; the database sees only
truncated keyed digests (blind_index.py). A search's criteria give every key the child
could be under given the criteria (`search_entries`); a source record gives the keys its
child has when the record is right (`record_entries`), then, for a record those do not
settle, the keys it has when one more field is wrong (`variant_entries`). One query then
fetches the children that many sets of keys reach at once (`candidate_children`). Which
errors each allows is in docs/linkage.md and docs/blind-indexes.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from django.db.models import Q

from contactpoint.lib import dates, names
from contactpoint.lib.identifiers import Postcode
from contactpoint.registry import blind_index
from contactpoint.registry.blind_index import Index
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.models import BlindIndexEntry, Child

Entries = set[tuple[int, int]]  # (index, value) of BlindIndexEntry


class Sought(Protocol):
    """What a search asks for, normalised (`contactpoint.search.criteria.Criteria`)."""

    @property
    def date_of_birth(self) -> dt.date: ...
    @property
    def family_name(self) -> str: ...
    @property
    def given_name(self) -> str: ...
    @property
    def postcode(self) -> Postcode | None: ...
    @property
    def district(self) -> str: ...
    @property
    def nhs_number(self) -> str: ...
    @property
    def upn(self) -> str: ...


def _entries(pairs: Iterable[tuple[Index, int]]) -> Entries:
    return {(int(i), v) for i, v in pairs}


def search_entries(sought: Sought) -> Entries:
    """Every blind-index key the child could be under, given these criteria (every error
    variant the linkage blocking allows: phonetic names, each part of a double-barrelled
    family name, the day/month swap)."""
    entries: Entries = set()
    for scheme in ("nhs_number", "upn"):
        if value := getattr(sought, scheme):
            entries |= _entries(blind_index.identifier_entries(scheme, value))
    if not sought.family_name:
        return entries
    family_keys = names.family_name_keys(sought.family_name)
    for birth in dates.birth_date_variants(sought.date_of_birth):
        entries |= _entries(
            blind_index.name_entries(sought.given_name, sought.family_name, birth, sought.postcode)
        )
    if sought.district and sought.postcode is None:
        index = Index.DISTRICT_FAMILY
        entries |= {
            (int(index), blind_index.digest(index, sought.district, k)) for k in family_keys
        }
    if sought.district:  # a misspelt family name changes its keys; the place does not
        for birth in dates.birth_date_variants(sought.date_of_birth):
            entries |= _entries(blind_index.place_entries(birth, sought.district))
    return entries


def _families(record: FeedRecord) -> set[str]:
    return {record.family_name, record.former_family_name} - {""}


def record_entries(record: FeedRecord) -> Entries:
    """The blind-index entries a record's child has when the record is right, or has its
    day and month swapped: identifiers, birth date with each name, postcode district with
    each family name. A record without a birth date has only the first and the last."""
    entries: Entries = set()
    for scheme in ("nhs_number", "upn"):
        if value := getattr(record, scheme):
            entries |= _entries(blind_index.identifier_entries(scheme, value))
    born = record.date_of_birth
    births: set[dt.date | None] = set(dates.birth_date_variants(born)) if born else {None}
    for birth in births:
        for family in _families(record):
            entries |= _entries(
                blind_index.name_entries(record.given_name, family, birth, record.postcode)
            )
    return entries


def variant_entries(record: FeedRecord) -> Entries:
    """The further entries the record's child has when one more field of the record is
    wrong: a digit of the birth date or its year (dates.mistyped_variants), looked up
    with the family names only, since with the date wrong the names are right; given
    and family name swapped, each looked up in the other's index; and both names
    misspelt beyond their phonetic keys, looked up by the birth date (and its swap) in
    the postcode district, the index search keeps for a misspelt name, and with the
    family name slipped by a letter (`family_slips`). Entries of existing indexes only:
    no index is added for them (docs/blind-indexes.md)."""
    born = record.date_of_birth
    if born is None:
        return undated_variant_entries(record) - record_entries(record)
    entries: Entries = set()
    for birth in dates.birth_date_variants(born):
        if record.postcode is not None:
            entries |= _entries(blind_index.place_entries(birth, record.postcode.district))
        for family in family_slips(record.family_name):
            entries |= _entries(blind_index.name_entries("", family, birth, None))
    for family in _families(record):
        for birth in dates.mistyped_variants(born):
            entries |= _entries(blind_index.name_entries("", family, birth, None))
    if record.given_name:
        for birth in dates.birth_date_variants(born):
            entries |= _entries(
                blind_index.name_entries(record.family_name, record.given_name, birth, None)
            )
    return entries - record_entries(record)


def undated_variant_entries(record: FeedRecord) -> Entries:
    """For a record without a date of birth, whose only name key is its family name in its
    postcode district: that key with the family name slipped (a letter added, or two
    letters swapped, `family_slips`), and with the given name in its place (names
    swapped). No postcode, no key: such a record is found by its identifiers alone."""
    if record.postcode is None:
        return set()
    families = family_slips(record.family_name) | {record.given_name} - {""}
    return {
        entry
        for family in families
        for entry in _entries(blind_index.name_entries("", family, None, record.postcode))
    }


def family_slips(name: str) -> set[str]:
    """The spellings a family name may have been slipped from by one added letter or two
    neighbouring letters swapped: each letter dropped, each neighbouring pair swapped."""
    dropped = {name[:i] + name[i + 1 :] for i in range(len(name))}
    swapped = {name[:i] + name[i + 1] + name[i] + name[i + 2 :] for i in range(len(name) - 1)}
    return (dropped | swapped) - {name, ""}


def _matching(entries: Iterable[tuple[int, int]]) -> Q | None:
    """The condition on BlindIndexEntry of any of these keys (None for no key): one per
    index, so the (index, value, child) primary key serves every lookup."""
    by_index: dict[int, set[int]] = defaultdict(set)
    for index, value in entries:
        by_index[index].add(value)
    where = Q()
    for index, values in by_index.items():
        where |= Q(index=index, value__in=list(values))
    return where if by_index else None


def candidate_children(wanted: list[Entries]) -> list[set[uuid.UUID]]:
    """For each set of keys, the children any of them reaches: one query for all the sets."""
    where = _matching(e for entries in wanted for e in entries)
    if where is None:
        return [set() for _ in wanted]
    hits: dict[tuple[int, int], set[uuid.UUID]] = defaultdict(set)
    rows = BlindIndexEntry.objects.filter(where).values_list("index", "value", "child_id")
    for index, value, child in rows:
        hits[(index, value)].add(child)
    return [{c for e in entries for c in hits.get(e, ())} for entries in wanted]


def active_candidates(entries: Entries) -> dict[uuid.UUID, str]:
    """The active children (not sealed, merged or archived) any of these keys reaches, each
    with its contactpoint ID: one query, the index entries joined to the children."""
    where = _matching(entries)
    if where is None:
        return {}
    rows = (
        BlindIndexEntry.objects.filter(where, child__status=Child.Status.ACTIVE)
        .values_list("child_id", "child__cpid")
        .distinct()
    )
    return dict(rows)
