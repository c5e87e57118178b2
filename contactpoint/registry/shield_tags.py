"""Which children are shielded, and a shielding decision's child and reason, without
saying so to anyone who holds the database but not the keys (ADR 0010).

- A shielded child is one `ShieldTag` row: the first 128 bits of HMAC-SHA256 of the
  child's id under a key derived from the index root key (`child-shielded/v1`). Whoever
  holds a child's id computes its tag and looks it up; nobody can list the shielded
  children from the table, and every query looks up only the ids it already has.
- A shielding decision names its child by `child_tag`, the same digest under another
  derived key (`shielding-child/v1`, so the two tables do not join), to find a child's
  decisions, and by `child_ref`, the child's id sealed under a derived key
  (`shielding-ref/v1`), for the index team's queue; its reason code is sealed under the
  child's data key (`shield_reasons`), and forgotten with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto
from contactpoint.registry.cipher import associated_data
from contactpoint.registry.models import Child, ShieldingDecision, ShieldTag

SHIELDED_KEY = "child-shielded/v1"
DECISION_CHILD_KEY = "shielding-child/v1"
DECISION_REF_KEY = "shielding-ref/v1"


def tag(child_id: uuid.UUID) -> bytes:
    """The keyed digest whose row says the child is shielded."""
    return crypto.keyed_digest(derived_key(SHIELDED_KEY), child_id.bytes)[:16]


def shielded_among(child_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The shielded children among these (one indexed lookup per 500 ids)."""
    by_tag = {tag(c): c for c in child_ids}
    found: set[uuid.UUID] = set()
    tags = list(by_tag)
    for start in range(0, len(tags), 500):
        rows = ShieldTag.objects.filter(tag__in=tags[start : start + 500])
        found |= {by_tag[bytes(t)] for t in rows.values_list("tag", flat=True)}
    return found


def is_shielded(child_id: uuid.UUID) -> bool:
    return ShieldTag.objects.filter(tag=tag(child_id)).exists()


def shield(child_ids: Iterable[uuid.UUID]) -> None:
    """Shield these children (those already shielded stay so)."""
    rows = [ShieldTag(tag=tag(c)) for c in child_ids]
    ShieldTag.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


def unshield(child_ids: Iterable[uuid.UUID]) -> None:
    ShieldTag.objects.filter(tag__in=[tag(c) for c in child_ids]).delete()


def decision_tag(child_id: uuid.UUID) -> bytes:
    """The keyed digest a child's shielding decisions are found by."""
    return crypto.keyed_digest(derived_key(DECISION_CHILD_KEY), child_id.bytes)[:16]


def name_child(decision: ShieldingDecision, child: Child) -> None:
    """Set the decision's child (tag and sealed id); the row is not saved."""
    ad = associated_data(ShieldingDecision, "child_ref", decision.pk)
    decision.child_tag = decision_tag(child.pk)
    decision.child_ref = crypto.seal(derived_key(DECISION_REF_KEY), child.pk.bytes, ad)
    decision.__dict__["child"] = child  # cached_property: what was sealed need not be opened


def decision_child(decision: ShieldingDecision) -> Child:
    """The decision's child, its sealed id opened."""
    ad = associated_data(ShieldingDecision, "child_ref", decision.pk)
    raw = crypto.open_sealed(derived_key(DECISION_REF_KEY), bytes(decision.child_ref), ad)
    return Child.objects.get(pk=uuid.UUID(bytes=raw))
