"""How a practice row names its child without a stolen database learning which (ADR 0010).

A row that keeps a user, an organisation or a principal in clear beside its child's id
says which organisation's staff looked at or work with which child, and often why (an
emergency, a statutory review after archiving, a search). Such a row names its child
only:
- by `holder`, the first 128 bits of HMAC-SHA256 of child id and the one who holds the
  row (a user's id, a principal's key) under a key derived from the index root key, one
  per table: what the row's access rule looks up ("does this user hold one for this
  child?"), one index read, as the foreign key was. The child is in the message, so equal
  holders are one holder's rows about one child and join no other table; without the
  index key nobody can test a guess;
- by `child_ref`, when some page lists the rows: the child's id sealed (AES-256-GCM,
  associated data naming table, column and row) under another derived key, opened for the
  rows shown. Not the child's data key: a review of the row outlives a purge.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto
from contactpoint.practice.models import StatutoryAccess
from contactpoint.registry.cipher import associated_data
from contactpoint.registry.models import Child

TAG_BYTES = 16


def digest(key_name: str, child_id: uuid.UUID, holder: uuid.UUID | str) -> bytes:
    """The keyed digest of child and holder under the derived key `key_name`."""
    message = f"{child_id}\x1f{holder}".encode()
    return crypto.keyed_digest(derived_key(key_name), message)[:TAG_BYTES]


@dataclass(frozen=True)
class Holders:
    """One table's holder digest and sealed child: `model` has the binary column `holder`,
    the sealed column `child_ref` and the attribute `child` (not a column)."""

    model: Any
    holder_key: str
    child_key: str

    def holder(self, child_id: uuid.UUID, who: uuid.UUID | str) -> bytes:
        """The digest that says "`who` holds (held) such a row about this child"."""
        return digest(self.holder_key, child_id, who)

    def seal_child(self, row_id: uuid.UUID, child_id: uuid.UUID) -> bytes:
        ad = associated_data(self.model, "child_ref", row_id)
        return crypto.seal(derived_key(self.child_key), child_id.bytes, ad)

    def name_child(self, row: Any, child: Child, who: uuid.UUID | str) -> None:
        """Set the row's holder and sealed child (the row is not saved)."""
        row.holder = self.holder(child.pk, who)
        row.child_ref = self.seal_child(row.pk, child.pk)
        row.child = child

    def child_id_of(self, row: Any) -> uuid.UUID:
        """The row's child id, opened."""
        if row.child is not None:
            return uuid.UUID(str(row.child.pk))
        ad = associated_data(self.model, "child_ref", row.pk)
        sealed = bytes(row.child_ref)
        return uuid.UUID(bytes=crypto.open_sealed(derived_key(self.child_key), sealed, ad))

    def with_children(self, rows: Iterable[Any]) -> list[Any]:
        """The rows, each with its child set (one query for all of them)."""
        listed = list(rows)
        ids = {row.pk: self.child_id_of(row) for row in listed}
        children = Child.objects.in_bulk(set(ids.values()))
        for row in listed:
            row.child = children.get(ids[row.pk])
        return listed


# What each table names its child by. A finding has no sealed child: no query lists a
# principal's found children, it is only looked up ("did this principal find this child
# within FINDING_LASTS?") and expires.
FINDING_KEY = "finding-holder/v1"


def finding(child_id: uuid.UUID, principal_key: str) -> bytes:
    """The digest of a finding: this principal ("user:<id>", "client:<id>") found this child."""
    return digest(FINDING_KEY, child_id, principal_key)


# A statutory access: "does this user have one for this child running now?" (every read of
# an archived record after its first year) reads the holder.
STATUTORY = Holders(StatutoryAccess, "statutory-holder/v1", "statutory-child/v1")
