"""What ties an emergency access to its child, kept from a stolen database (ADR 0010).

An emergency access row beside its child says that the child had an emergency (it is
missing, at risk) and which organisation's staff looked. The row keeps its user and
organisation in clear (the privacy officer's queue is per organisation) and names the
child only (`practice.holders`):
- by `holder`, the keyed digest of child id and user id under `emergency-holder/v1`: what
  "does this user have an emergency access to this child?" looks up, on every record view;
- by `child_ref`, the child's id sealed under `emergency-child/v1`, opened for the rows a
  privacy officer reviews or an alert shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from contactpoint.practice.holders import TAG_BYTES, Holders
from contactpoint.practice.models import EmergencyAccess
from contactpoint.registry.models import Child

HOLDER_KEY = "emergency-holder/v1"
CHILD_KEY = "emergency-child/v1"
__all__ = ["TAG_BYTES", "child_id_of", "holder", "name_child", "seal_child", "with_children"]

REFS = Holders(EmergencyAccess, HOLDER_KEY, CHILD_KEY)


def holder(child_id: uuid.UUID, user_id: uuid.UUID | str) -> bytes:
    """The keyed digest that says "this user has (had) an emergency access to this child"."""
    return REFS.holder(child_id, user_id)


def seal_child(access_id: uuid.UUID, child_id: uuid.UUID) -> bytes:
    return REFS.seal_child(access_id, child_id)


def name_child(access: EmergencyAccess, child: Child) -> None:
    """Set the access's holder and sealed child (the row is not saved)."""
    REFS.name_child(access, child, access.user_id)


def child_id_of(access: EmergencyAccess) -> uuid.UUID:
    """The access's child id, opened."""
    return REFS.child_id_of(access)


def with_children(accesses: Iterable[EmergencyAccess]) -> list[EmergencyAccess]:
    """The accesses, each with its child set (one query for all of them)."""
    return REFS.with_children(accesses)
