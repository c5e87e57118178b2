"""Move source records to another child, or back to waiting: what every review decision does.

A record's payload (which holds its facts), address history and feed involvements are
sealed under its owner's data key (its child's, or its own while it waits), so a move cannot
just change a foreign key. The payload is opened under the current owner's key, the
record's involvements are deleted, and the payload and the record's source (`origin`) are
sealed again under the new owner's key. Addresses the record no longer states (history)
are sealed again under the new child's key, or dropped when the record goes back to
waiting. Both children's golden records and blind indexes are then recomputed.

Runs inside the caller's transaction. A key made for a record going back to waiting is
committed in the key store first (harmless if the registry then rolls back); the own key
of a record that stops waiting is destroyed only once the registry has committed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from contactpoint.keystore import service as keys
from contactpoint.registry import children, golden, involvements, origins, payloads, shield_tags
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.models import Involvement, SourceRecord
from contactpoint.registry.record_facts import history_of, seal_history

RECORD_FIELDS = [
    "child",
    "status",
    "method",
    "confidence",
    "payload",
    "history",
    "origin",
    "preferred",
    "updated_at",
]


class PayloadGone(Exception):
    """A record's owner has no data key any more (crypto-shredded): it cannot be moved."""


@dataclass(frozen=True)
class Opened:
    body: str  # canonical JSON, exactly as sealed
    record: FeedRecord
    source_id: int  # the source that sent it (its sealed `origin`)


def owner_of(sr: SourceRecord) -> uuid.UUID:
    """Whose data key seals the record: its child's, or its own while it waits."""
    return sr.child_id or sr.pk


def open_records(records: Sequence[SourceRecord]) -> dict[uuid.UUID, Opened]:
    """Open the payloads of these records. Raises PayloadGone if an owner's key is gone."""
    ciphers = children.ciphers_for({owner_of(sr) for sr in records})
    opened = {}
    for sr in records:
        cipher = ciphers.get(owner_of(sr))
        body = payloads.open_payload(cipher, sr.pk, sr.payload) if cipher else None
        if body is None or cipher is None:
            raise PayloadGone(f"source record {sr.pk} can no longer be opened")
        record = FeedRecord.from_canonical(json.loads(body))
        opened[sr.pk] = Opened(body, record, origins.open_origin(cipher, sr.pk, sr.origin))
    return opened


def relink(
    sr: SourceRecord,
    to_child: uuid.UUID | None,
    method: str | None = None,
    confidence: float | None = None,
) -> Opened:
    """Move one record to `to_child`, or back to waiting when it is None.

    Args:
        sr: the record, as fetched (its row is updated in place).
        to_child: the child it belongs to from now on, or None: waiting for a person.
        method: the record's new linkage method; None keeps the one it has.
        confidence: its new confidence; None keeps it (and its facts' provenance).

    Returns:
        The record's payload, opened.
    """
    return relink_many([sr], to_child, method, confidence)[sr.pk]


def relink_many(
    records: Sequence[SourceRecord],
    to_child: uuid.UUID | None,
    method: str | None = None,
    confidence: float | None = None,
) -> dict[uuid.UUID, Opened]:
    """Move several records to one child (or to waiting); see `relink`."""
    opened = open_records(records)
    before = {sr.pk: sr.child_id for sr in records}
    ciphers = _new_ciphers(records, to_child)
    _move_history(records, to_child, ciphers)
    lost_involvements, _ = Involvement.objects.filter(
        source_record_id__in=[sr.pk for sr in records]
    ).delete()
    fed = involvements.FeedInvolvements(
        involvements.organisation_ids({o.record.org_code for o in opened.values()})
    )
    now = timezone.now()
    for sr in records:
        cipher = ciphers[to_child or sr.pk]
        sr.child_id, sr.status = to_child, "linked" if to_child else "pending"
        sr.method = method or sr.method
        sr.confidence = sr.confidence if confidence is None else confidence
        sr.payload = payloads.seal(cipher, sr.pk, opened[sr.pk].body)
        sr.origin = origins.seal(cipher, sr.pk, opened[sr.pk].source_id)
        sr.preferred = 0  # a waiting record supplies nothing; the new child's refresh chooses
        sr.updated_at = now
        if to_child is not None:
            fed.add(cipher, sr.pk, opened[sr.pk].record)
    SourceRecord.objects.bulk_update(records, RECORD_FIELDS)
    fed.flush()
    _after_move(records, opened, before, to_child)
    left = {c for c in before.values() if c is not None and c != to_child}
    if lost_involvements:
        _refeed(left)
    golden.refresh(left | ({to_child} if to_child else set()))
    return opened


def _new_ciphers(
    records: Sequence[SourceRecord], to_child: uuid.UUID | None
) -> dict[uuid.UUID, ChildCipher]:
    """The new owners' ciphers, keyed by owner id, and the old children's for history."""
    if to_child is None:
        fresh = keys.ensure_data_keys({sr.pk for sr in records})
        owned = {o: ChildCipher(o, k) for o, k in fresh.items()}
    else:
        owned = children.ciphers_for({to_child})
        if to_child not in owned:
            raise PayloadGone("the receiving child's data key is gone")
    olds = children.ciphers_for({sr.child_id for sr in records if sr.child_id} - owned.keys())
    return owned | olds


def _move_history(
    records: Sequence[SourceRecord],
    to_child: uuid.UUID | None,
    ciphers: dict[uuid.UUID, ChildCipher],
) -> None:
    """Seal the records' address history again under the new child's key; drop it when a
    record goes back to waiting. The caller saves the records."""
    for sr in records:
        if sr.history is None:
            continue
        if to_child is None or sr.child_id is None or sr.child_id not in ciphers:
            sr.history = None
            continue
        history = history_of(ciphers[sr.child_id], sr.pk, sr.history)
        sr.history = seal_history(ciphers[to_child], sr.pk, history)


def _after_move(
    records: Sequence[SourceRecord],
    opened: dict[uuid.UUID, Opened],
    before: dict[uuid.UUID, uuid.UUID | None],
    to_child: uuid.UUID | None,
) -> None:
    """Shield a child a sensitive record joins; shred the keys of records that stop waiting."""
    if to_child is None:
        return
    if any(o.record.sensitive for o in opened.values()):
        shield_tags.shield([to_child])
    released = [sr.pk for sr in records if before[sr.pk] is None]
    if released:
        transaction.on_commit(lambda: keys.destroy_data_keys(released))


def _refeed(child_ids: set[uuid.UUID]) -> None:
    """State again the involvements of the records a child keeps.

    An involvement belongs to the record that first stated it; when that record leaves,
    another record of the child may state it too, and must not lose it.
    """
    remaining = list(SourceRecord.objects.filter(child_id__in=list(child_ids), status="linked"))
    if not remaining:
        return
    opened = open_records(remaining)
    ciphers = children.ciphers_for(child_ids)
    fed = involvements.FeedInvolvements(
        involvements.organisation_ids({o.record.org_code for o in opened.values()})
    )
    for sr in remaining:
        if sr.child_id in ciphers:
            fed.add(ciphers[sr.child_id], sr.pk, opened[sr.pk].record)
    fed.flush()
