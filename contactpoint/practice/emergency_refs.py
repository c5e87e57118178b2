"""What ties an emergency access to its child, kept from a stolen database (ADR 0010).

An emergency access row beside its child says that the child had an emergency (it is
missing, at risk) and which organisation's staff looked. The row keeps its user and
organisation in clear (the privacy officer's queue is per organisation) and names the
child only:
- by `holder`, the first 128 bits of HMAC-SHA256 of child id and user id under a key
  derived from the index root key (`emergency-holder/v1`): what "does this user have an
  emergency access to this child?" looks up, on every record view. The child is in the
  message, so equal holders are one user's accesses to one child and join no other table;
- by `child_ref`, the child's id sealed (AES-256-GCM, associated data naming table, column
  and row) under another derived key (`emergency-child/v1`), opened for the rows a privacy
  officer reviews or an alert shows. Not the child's data key: the review outlives a purge.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto
from contactpoint.practice.models import EmergencyAccess
from contactpoint.registry.cipher import associated_data
from contactpoint.registry.models import Child

HOLDER_KEY = "emergency-holder/v1"
CHILD_KEY = "emergency-child/v1"
TAG_BYTES = 16


def holder(child_id: uuid.UUID, user_id: uuid.UUID | str) -> bytes:
    """The keyed digest that says "this user has (had) an emergency access to this child"."""
    message = f"{child_id}\x1f{user_id}".encode()
    return crypto.keyed_digest(derived_key(HOLDER_KEY), message)[:TAG_BYTES]


def seal_child(access_id: uuid.UUID, child_id: uuid.UUID) -> bytes:
    ad = associated_data(EmergencyAccess, "child_ref", access_id)
    return crypto.seal(derived_key(CHILD_KEY), child_id.bytes, ad)


def name_child(access: EmergencyAccess, child: Child) -> None:
    """Set the access's holder and sealed child (the row is not saved)."""
    access.holder = holder(child.pk, access.user_id)
    access.child_ref = seal_child(access.pk, child.pk)
    access.child = child


def child_id_of(access: EmergencyAccess) -> uuid.UUID:
    """The access's child id, opened."""
    if access.child is not None:
        return access.child.pk
    ad = associated_data(EmergencyAccess, "child_ref", access.pk)
    return uuid.UUID(bytes=crypto.open_sealed(derived_key(CHILD_KEY), bytes(access.child_ref), ad))


def with_children(accesses: Iterable[EmergencyAccess]) -> list[EmergencyAccess]:
    """The accesses, each with its child set (one query for all of them)."""
    rows = list(accesses)
    ids = {a.pk: child_id_of(a) for a in rows}
    children = Child.objects.in_bulk(set(ids.values()))
    for access in rows:
        access.child = children.get(ids[access.pk])
    return rows
