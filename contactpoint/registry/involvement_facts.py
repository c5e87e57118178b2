"""What an involvement says about a child, sealed: its role, and for a sensitive service
its category and consent basis (ADR 0010).

The three are one fixed-size sealed value under the child's data key, written for every
involvement, so neither a column's nullness nor a ciphertext's length tells a sensitive
service or a youth offending worker from a school. Uniqueness of an open involvement per
child, organisation and role is kept by `slot`, a keyed digest of the three that includes
the child, so equal slots never link two children.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.models import Involvement

FACTS_SIZE = 96  # the longest role, category and basis as JSON is 72 bytes
SLOT_KEY = "involvement-slot/v1"


@dataclass(frozen=True)
class InvolvementFacts:
    role: str
    sensitive_category: str | None = None
    consent_basis: str | None = None

    @property
    def sensitive(self) -> bool:
        return self.sensitive_category is not None

    @property
    def role_label(self) -> str:
        return str(Involvement.Role(self.role).label)


def slot(child_id: uuid.UUID, organisation_id: int, role: str) -> bytes:
    """The keyed digest that makes one open involvement per child, organisation and role."""
    message = f"{child_id}\x1f{organisation_id}\x1f{role}".encode()
    return crypto.keyed_digest(derived_key(SLOT_KEY), message)[:16]


def seal(cipher: ChildCipher, involvement: Involvement, facts: InvolvementFacts) -> None:
    """Set the involvement's sealed facts and its slot (the row is not saved)."""
    document = json.dumps(
        [facts.role, facts.sensitive_category, facts.consent_basis], separators=(",", ":")
    )
    involvement.facts = cipher.seal_fixed(
        Involvement, "facts", involvement.pk, document, FACTS_SIZE
    )
    involvement.slot = slot(cipher.owner_id, involvement.organisation_id, facts.role)
    setattr(involvement, _KNOWN, facts)  # what this process sealed, it need not open


_KNOWN = "_contactpoint_facts"


def opened(cipher: ChildCipher, involvement: Involvement) -> InvolvementFacts:
    role, category, basis = json.loads(cipher.open_fixed(involvement, "facts"))
    return InvolvementFacts(role, category, basis)


def facts_of(involvements: Iterable[Involvement]) -> dict[uuid.UUID, InvolvementFacts]:
    """The facts of each involvement whose child's data key still exists, by its id."""
    rows = list(involvements)
    found = {i.pk: getattr(i, _KNOWN) for i in rows if hasattr(i, _KNOWN)}
    ciphers = ciphers_for({i.child_id for i in rows if i.pk not in found})
    for i in rows:
        if i.pk not in found and i.child_id in ciphers:
            found[i.pk] = opened(ciphers[i.child_id], i)
            setattr(i, _KNOWN, found[i.pk])
    return found


def facts_one(involvement: Involvement) -> InvolvementFacts:
    """The facts of one involvement.

    Raises:
        KeyError: its child's data key is gone.
    """
    return facts_of([involvement])[involvement.pk]


def without_sensitive(involvements: Iterable[Involvement]) -> list[Involvement]:
    """The involvements that are not sensitive services (and whose child's key exists)."""
    rows = list(involvements)
    facts = facts_of(rows)
    return [i for i in rows if i.pk in facts and not facts[i.pk].sensitive]
