"""Why a child is (or stops being) shielded: the decision's reason code, sealed under the
child's data key at a fixed length, so a purge shreds it with the rest of the child
(ADR 0010). Apart from `shield_tags`, which `children` itself uses to shield a record a
source flags as sensitive.
"""

from __future__ import annotations

from contactpoint.registry.children import ciphers_for
from contactpoint.registry.models import ShieldingDecision

REASON_SIZE = 16  # the longest reason code, `domestic_abuse`, is 14 bytes


def seal_reason(decision: ShieldingDecision, reason: str) -> None:
    """Seal the reason under the decision's child's key; the row is not saved.

    Raises:
        KeyError: the child's data key is gone.
    """
    cipher = ciphers_for({decision.child.pk})[decision.child.pk]
    decision.reason = cipher.seal_fixed(
        ShieldingDecision, "reason", decision.pk, reason, REASON_SIZE
    )
    decision.__dict__["reason_code"] = reason


def decision_reason(decision: ShieldingDecision) -> str:
    """The decision's reason code ("" when the child's data key is gone)."""
    cipher = ciphers_for({decision.child.pk}).get(decision.child.pk)
    return cipher.open_fixed(decision, "reason") if cipher is not None else ""
