"""What an involvement says about a child, sealed: its role, and for a sensitive service
its category and consent basis; who it links the child to, the organisation and the
practitioner (ADR 0010); and the day it started.

All of it is one fixed-size sealed value under the child's data key (`facts`, ADR 0013:
one nonce and one tag a row, not three), written for every involvement, so neither a
column's nullness nor a ciphertext's length tells a sensitive service or a youth
offending worker from a school. What queries need without opening is kept as keyed
digests that include the child, so equal digests never link two children: `slot` (child,
organisation and role: one open involvement of each), `member` (child and organisation:
"is this organisation involved with this child") and `area_member` (child and the
organisation's council area: "is this index team local to this child", asked also of a
purged child, whose key is gone).
"""

from __future__ import annotations

import datetime as dt
import struct
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.models import Involvement, Organisation, Practitioner
from contactpoint.registry.models.involvements import Link

# The sealed value: role, category and basis as codes (their index in the tuples below,
# 0 for none), the organisation's and practitioner's ids (0: no practitioner) and the start
# day as a proleptic ordinal (0: not known). 23 bytes for every involvement. The tuples
# only ever grow at their end: a code, once written, means its value for good.
LAYOUT = struct.Struct(">BBBqqi")
ROLES = tuple(Involvement.Role.values)
CATEGORIES = (None, *Involvement.SensitiveCategory.values)
BASES = (None, *Involvement.ConsentBasis.values)
SLOT_KEY = "involvement-slot/v1"
MEMBER_KEY = "involvement-member/v1"
AREA_KEY = "involvement-area/v1"


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


def member(child_id: uuid.UUID, organisation_id: int) -> bytes:
    """The keyed digest that says "this organisation is involved with this child"."""
    message = f"{child_id}\x1f{organisation_id}".encode()
    return crypto.keyed_digest(derived_key(MEMBER_KEY), message)[:16]


def area_member(child_id: uuid.UUID, area_code: str) -> bytes:
    """The keyed digest that says "an organisation of this council area ("" for none) is
    involved with this child": its local index team, known even once its key is gone."""
    message = f"{child_id}\x1f{area_code}".encode()
    return crypto.keyed_digest(derived_key(AREA_KEY), message)[:16]


class Sealed(NamedTuple):
    """An involvement's sealed value and its three digests, as its columns hold them."""

    facts: bytes
    slot: bytes
    member: bytes
    area_member: bytes


def sealed(
    cipher: ChildCipher,
    involvement_id: uuid.UUID,
    facts: InvolvementFacts,
    organisation_id: int,
    practitioner_id: int | None,
    area_code: str,
    start: dt.date | None = None,
    slot_digest: bytes | None = None,
) -> Sealed:
    """The sealed value (facts, link and `start`, the day it started) and the three digests
    of an involvement of the cipher's child, from plain values: what a bulk path inserts as
    a tuple, with no model instance.

    Args:
        area_code: the organisation's council area ("" for none).
        slot_digest: `slot(...)` of these values, when the caller has it already.
    """
    plain = LAYOUT.pack(
        ROLES.index(facts.role),
        CATEGORIES.index(facts.sensitive_category),
        BASES.index(facts.consent_basis),
        organisation_id,
        practitioner_id or 0,
        start.toordinal() if start else 0,
    )
    owner = cipher.owner_id
    return Sealed(
        cipher.seal_bytes(Involvement, "facts", involvement_id, plain),
        slot_digest or slot(owner, organisation_id, facts.role),
        member(owner, organisation_id),
        area_member(owner, area_code),
    )


def seal(
    cipher: ChildCipher,
    involvement: Involvement,
    facts: InvolvementFacts,
    start: dt.date | None = None,
) -> None:
    """Set the involvement's sealed value (facts, link and `start`, the day it started) and
    its three digests, from the facts given and the organisation and practitioner set on
    it (the row is not saved)."""
    area = involvement.organisation.council_area
    organisation_id, practitioner_id = involvement.organisation_id, involvement.practitioner_id
    code = area.code if area else ""
    values = sealed(cipher, involvement.pk, facts, organisation_id, practitioner_id, code, start)
    involvement.facts, involvement.slot, involvement.member, involvement.area_member = values
    setattr(involvement, _KNOWN, facts)  # what this process sealed, it need not open


_KNOWN = "_contactpoint_facts"


def _unpacked(cipher: ChildCipher, involvement: Involvement) -> tuple[int, ...]:
    plain = cipher.open_bytes(Involvement, "facts", involvement.pk, involvement.facts)
    values: tuple[int, ...] = LAYOUT.unpack(plain)
    return values


def opened(cipher: ChildCipher, involvement: Involvement) -> InvolvementFacts:
    """Open the involvement's facts, and its organisation and practitioner ids onto it."""
    role, category, basis, organisation_id, practitioner_id, _ = _unpacked(cipher, involvement)
    involvement.set_link(Link(organisation_id, practitioner_id or None))
    return InvolvementFacts(ROLES[role], CATEGORIES[category], BASES[basis])


def open_link(cipher: ChildCipher, involvement: Involvement) -> None:
    """Open the involvement's organisation and practitioner ids (and its facts) onto it."""
    setattr(involvement, _KNOWN, opened(cipher, involvement))


def started(cipher: ChildCipher, involvement: Involvement) -> dt.date | None:
    """The day the involvement started, opened (None: not known)."""
    day = _unpacked(cipher, involvement)[-1]
    return dt.date.fromordinal(day) if day else None


def open_all(involvements: Iterable[Involvement]) -> list[Involvement]:
    """Open the facts and link of each involvement whose child's data key still exists (one
    key-store read for all their children); return those."""
    rows = list(involvements)
    closed = [i for i in rows if not (hasattr(i, _KNOWN) and i.link_opened())]
    ciphers = ciphers_for({i.child_id for i in closed})
    for i in closed:
        if i.child_id in ciphers and i.facts is not None:
            setattr(i, _KNOWN, opened(ciphers[i.child_id], i))
    return [i for i in rows if hasattr(i, _KNOWN) and i.link_opened()]


def with_links(involvements: Iterable[Involvement]) -> list[Involvement]:
    """`open_all`, and each one's organisation (with its council area) and practitioner
    fetched in one query each."""
    rows = open_all(involvements)
    organisations = Organisation.objects.select_related("council_area").in_bulk(
        {i.organisation_id for i in rows}
    )
    people = Practitioner.objects.in_bulk({i.practitioner_id for i in rows} - {None})
    for i in rows:
        practitioner_id = i.practitioner_id
        i.organisation = organisations[i.organisation_id]
        i.practitioner = people.get(practitioner_id) if practitioner_id is not None else None
    return rows


def facts_of(involvements: Iterable[Involvement]) -> dict[uuid.UUID, InvolvementFacts]:
    """The facts of each involvement whose child's data key still exists, by its id (its
    link is opened too)."""
    return {i.pk: getattr(i, _KNOWN) for i in open_all(involvements)}


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
