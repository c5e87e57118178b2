"""Create children, issue their contactpoint IDs, and hold back records near a shielded child."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection

from contactpoint.keystore import service as keys
from contactpoint.lib import dates, names
from contactpoint.lib.identifiers import new_cpids
from contactpoint.registry import blind_index, record_facts, shield_tags
from contactpoint.registry.blind_index import Index
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.models import BlindIndexEntry, Child
from contactpoint.registry.record_facts import ciphers_for

__all__ = ["ciphers_for", "create_children", "issue_cpids", "near_shielded"]


def issue_cpids(count: int) -> list[str]:
    """`count` contactpoint IDs no child has, for children about to be created.

    With 60 random bits a clash with the 11 million issued is about 1 in 10^11 per ID, but
    it is checked anyway: an ID is never reused, even one whose child was purged (a child's
    row is never deleted, so its ID stays taken). The unique `registry_child.cpid` refuses
    an ID another transaction gave a child meanwhile.
    """
    issued: set[str] = set()
    while len(issued) < count:
        fresh = set(new_cpids(count - len(issued))) - issued
        issued |= fresh - _taken(fresh)
    return sorted(issued)


def _taken(cpids: set[str]) -> set[str]:
    """Which of these IDs a child has: on PostgreSQL in one array parameter, which costs
    less to send than a parameter an ID (a bulk load asks for thousands at once)."""
    if connection.vendor != "postgresql":
        return set(Child.objects.filter(cpid__in=list(cpids)).values_list("cpid", flat=True))
    table = connection.ops.quote_name(Child._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cpid FROM {table} WHERE cpid = ANY(%s)", [list(cpids)])  # noqa: S608
        return {cpid for (cpid,) in cursor.fetchall()}


def create_children(ids: list[uuid.UUID]) -> list[tuple[Child, bytes]]:
    """Create children with these ids, each with a data key committed to the key store first
    (an existing key for the same id, left by an interrupted run, is reused)."""
    data_keys = keys.ensure_data_keys(ids)
    children = [Child(id=i, cpid=c) for i, c in zip(ids, issue_cpids(len(ids)), strict=True)]
    Child.objects.bulk_create(children)
    return [(c, data_keys[c.id]) for c in children]


@dataclass
class _Known:
    births: set[str]
    raw_names: set[tuple[str, str]] = field(default_factory=set)


def _known_children(child_ids: set[uuid.UUID]) -> dict[uuid.UUID, _Known]:
    known: dict[uuid.UUID, _Known] = {}
    for child, stated in record_facts.opened(child_ids).items():
        known[child] = _Known(set())
        for s in stated:
            r = s.record
            known[child].births.add(r.date_of_birth.isoformat() if r.date_of_birth else "")
            known[child].raw_names.add((r.given_name or "", r.family_name or ""))
            if r.former_family_name:
                known[child].raw_names.add((r.given_name or "", r.former_family_name))
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
