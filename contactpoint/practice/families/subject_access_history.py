"""Who looked at a child, for a subject-access report: the audit log's looks, in words.

A look is an allowed `child:records:search` (the child was shown), `child:record:view`,
`child:emergency-access:open` or `child:involvement:*` event about the child. Each shows
as its organisation and role (never a user), the day, what was done and why.

A child protection enquiry: a search with the purpose `child_protection_enquiry`, and
every later look by the same principal at the same child on the same (local) day, since
a record view that follows a search carries no purpose of its own. Its looks are
withheld until the local index team releases it (an `EnquiryRelease` for that principal,
child and day, which names them only by `enquiry_tag`: the first 128 bits of HMAC-SHA256
of child id, principal and day under a key derived from the index root key,
`enquiry-release/v1`; the child is in the message, so the digest joins nothing else).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from contactpoint.access.permissions import Role
from contactpoint.access.purposes import PURPOSES
from contactpoint.audit import log as audit_log
from contactpoint.audit.models import Event
from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto
from contactpoint.oversight.activity import EMERGENCY, INVOLVEMENT, SEARCH, VIEW
from contactpoint.practice.models import EmergencyAccess
from contactpoint.practice.models.families import EnquiryRelease
from contactpoint.practice.record import ADDITIONAL_SERVICE
from contactpoint.registry.models import Organisation

ENQUIRY = "child_protection_enquiry"
RELEASE_KEY = "enquiry-release/v1"

WHAT = {
    SEARCH: "Found the child in a search",
    VIEW: "Looked at the record",
    EMERGENCY: "Opened the record with emergency access",
}
CHANGED = "Recorded their work with the child"
PURPOSE_WORDS = {**PURPOSES, **dict(EmergencyAccess.Reason.choices)}
NOT_STATED = "No purpose recorded"
THEIR_WORK = "Their work with the child"


@dataclass(frozen=True)
class Look:
    index: int
    at: dt.datetime
    action: str
    principal: str
    role: str
    organisation_id: int | None
    purpose: str

    @property
    def key(self) -> tuple[str, dt.date]:
        return self.principal, timezone.localdate(self.at)


@dataclass(frozen=True)
class Access:
    """One line of a report's access history: looks of one kind, by one organisation and
    role, on one day, for one purpose."""

    organisation: str
    role: str
    day: dt.date
    what: str
    purpose: str
    times: int


@dataclass(frozen=True)
class Enquiry:
    """A child protection enquiry, for the local index team's release step."""

    event_index: int  # its first search's place in the audit log
    organisation: str
    role: str
    day: dt.date
    released: bool


@dataclass(frozen=True)
class History:
    shown: tuple[Look, ...]
    withheld: bool
    enquiries: tuple[Enquiry, ...]


def looks(child_id: uuid.UUID) -> list[Look]:
    """Every allowed look at the child, in the log's order."""
    rows = list(
        Event.objects.filter(child_tag=audit_log.child_tag(child_id), outcome=Event.Outcome.ALLOWED)
        .filter(Q(action__in=list(WHAT)) | Q(action__startswith=INVOLVEMENT))
        .order_by("index")
    )
    purposes = audit_log.purposes_of(rows)  # an emergency's reason is sealed
    return [
        Look(e.index, e.at, e.action, e.principal, e.role, e.organisation_id, purposes[e.index])
        for e in rows
    ]


def enquiry_tag(child_id: uuid.UUID, key: tuple[str, dt.date]) -> bytes:
    """The keyed digest naming one enquiry: a principal's accesses to a child on a day."""
    principal, day = key
    message = f"{child_id}\x1f{principal}\x1f{day.isoformat()}".encode()
    return crypto.keyed_digest(derived_key(RELEASE_KEY), message)[:16]


def released_of(
    child_id: uuid.UUID, enquiries: Iterable[tuple[str, dt.date]]
) -> set[tuple[str, dt.date]]:
    """Which of the child's enquiries (principal, day) the local index team released (one
    indexed lookup of their digests)."""
    by_tag = {enquiry_tag(child_id, key): key for key in enquiries}
    rows = EnquiryRelease.objects.filter(enquiry__in=list(by_tag))
    return {by_tag[bytes(t)] for t in rows.values_list("enquiry", flat=True)}


def history(child_id: uuid.UUID, excluded: tuple[str, dt.date]) -> History:
    """The looks a report shows, whether any are withheld, and the child's enquiries.

    Args:
        child_id: the child.
        excluded: a principal and day whose looks are left out (the index team member
            finding the child to make the report).
    """
    every = looks(child_id)
    starts: dict[tuple[str, dt.date], Look] = {}
    for look in every:
        if look.action == SEARCH and look.purpose == ENQUIRY:
            starts.setdefault(look.key, look)
    released = released_of(child_id, starts)
    shown: list[Look] = []
    withheld = False
    for look in every:
        start = starts.get(look.key)
        if look.key == excluded:
            continue
        if start is not None and look.index >= start.index and look.key not in released:
            withheld = True
            continue
        shown.append(look)
    names = _organisations({s.organisation_id for s in starts.values()})
    enquiries = tuple(
        Enquiry(
            s.index,
            names.get(s.organisation_id or 0, ""),
            role_words(s.role),
            key[1],
            key in released,
        )
        for key, s in starts.items()
        if key != excluded
    )
    return History(tuple(shown), withheld, enquiries)


def named(shown: tuple[Look, ...], hidden: set[int]) -> tuple[Access, ...]:
    """The looks in words, grouped by organisation and role, then day.

    A look with no purpose of its own takes that of the same principal's last search of
    the child that day. `hidden` organisations (sensitive services) show as "An additional
    service is involved", with no role.
    """
    names = _organisations({s.organisation_id for s in shown})
    last_purpose: dict[tuple[str, dt.date], str] = {}
    counts: dict[tuple[str, str, dt.date, str, str], int] = {}
    for look in shown:
        if look.action == SEARCH and look.purpose:
            last_purpose[look.key] = look.purpose
        purpose = look.purpose or last_purpose.get(look.key, "")
        if look.action.startswith(INVOLVEMENT):
            what, words = CHANGED, PURPOSE_WORDS.get(purpose, THEIR_WORK)
        else:
            what, words = WHAT[look.action], PURPOSE_WORDS.get(purpose, NOT_STATED)
        if look.organisation_id in hidden:
            organisation, role = ADDITIONAL_SERVICE, ""
        else:
            organisation = names.get(look.organisation_id or 0, "An organisation no longer known")
            role = role_words(look.role)
        key = (organisation, role, look.key[1], what, words)
        counts[key] = counts.get(key, 0) + 1
    return tuple(
        Access(org, role, day, what, words, times)
        for (org, role, day, what, words), times in sorted(
            counts.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])
        )
    )


def role_words(role: str) -> str:
    try:
        return Role(role).label
    except ValueError:
        return role or "Role not recorded"


def _organisations(ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    return dict(Organisation.objects.filter(pk__in=wanted).values_list("pk", "name"))
