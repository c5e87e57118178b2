"""A child's record as one principal may see it: the only place that decides what shows.

Three views, from least to most:
- withheld: a shielded child, for anyone but the local index team of the child's area:
  name, sex, date of birth and contactpoint ID, and "contact the local index team";
- identity: no relationship: the same identity fields, and how many services are involved
  (so the user knows there is someone to reach), with the choice to register their own
  involvement or to use emergency access;
- full: the user's organisation is involved, or their emergency access runs, or they are
  the local index team of a shielded child: identity with the source and date of each
  field, address, identifiers, parents and carers, and every involvement with how to
  reach it. A sensitive service (sexual health, mental health, substance misuse) shows
  only to itself; everyone else sees "an additional service is involved".

A record opens only for a child the user found by a search, or may see in full
(`may_open`): there is no way to browse from one ID to the next. An archived record opens
by its ID for the local index team of its area alone: in full for a year after archiving,
then only with a statutory access (`archived_purpose`, docs/retention.md); a purged one
never opens.

Pages, the API, alerts and e-mails all take what they show from here or show less.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, fields, replace

from django.utils import timezone

from contactpoint.access.permissions import Permission, Principal, Target, decide
from contactpoint.access.standing import add_months
from contactpoint.audit import log as audit_log
from contactpoint.lib.identifiers import InvalidIdentifier, validate_cpid
from contactpoint.oversight.signals import SHIELDED, Seen, signals
from contactpoint.practice.emergency_refs import holder
from contactpoint.practice.holders import STATUTORY, finding
from contactpoint.practice.models import EmergencyAccess, Finding, StatutoryAccess
from contactpoint.practice.relationships import contacts_decision
from contactpoint.registry import golden
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.involvement_facts import (
    InvolvementFacts,
    area_member,
    facts_of,
    with_links,
)
from contactpoint.registry.lookup import NotFound, Purged, child_by_cpid
from contactpoint.registry.models import Child, Involvement, Organisation, Source

FINDING_LASTS = dt.timedelta(hours=10)  # a working day: the longest a session lasts
STALE_AFTER = dt.timedelta(days=365)  # not confirmed for a year: shown as possibly out of date
ADDITIONAL_SERVICE = "An additional service is involved"


ARCHIVED_READABLE_MONTHS = 12  # then only with a statutory reason (docs/retention.md)
ARCHIVED_FIRST_YEAR = "archived_record"  # the audit purpose of a read in that first year


class View(enum.StrEnum):
    WITHHELD = "withheld"
    IDENTITY = "identity"
    FULL = "full"


@dataclass(frozen=True)
class Shown:
    """A value and where it came from: the source's name and the date it was true.

    Only the full view names sources: "youth offending services" alone would tell someone
    with no relationship which service knows the child. Otherwise both are empty.
    """

    value: str
    source: str = ""
    as_at: dt.date | None = None


@dataclass(frozen=True)
class CarerShown:
    relationship: str
    parental_responsibility: bool | None
    name: Shown | None
    phone: Shown | None
    email: Shown | None


@dataclass(frozen=True)
class InvolvementShown:
    id: uuid.UUID
    sensitive: bool  # others see only ADDITIONAL_SERVICE (and may ask to be put in touch)
    mine: bool  # the viewer's own organisation's
    organisation: str = ""
    organisation_code: str = ""
    organisation_phone: str = ""
    organisation_email: str = ""
    organisation_address: str = ""
    role: str = ""
    practitioner: str = ""
    job_title: str = ""
    phone: str = ""
    email: str = ""
    last_confirmed: dt.date | None = None
    stale: bool = False
    lead: bool = False
    caf: bool = False
    kept_by: str = ""  # the feed that keeps it current, or "Registered in contactpoint"


@dataclass(frozen=True)
class Record:
    child_id: uuid.UUID
    cpid: str
    view: View
    shielded: bool
    given_name: Shown | None
    family_name: Shown | None
    date_of_birth: Shown | None
    sex: Shown | None
    services_involved: int = 0
    emergency_until: dt.datetime | None = None
    former_family_names: tuple[Shown, ...] = ()
    address: Shown | None = None
    postcode: Shown | None = None
    archived_on: dt.date | None = None  # an archived record, read by its local index team
    nhs_number: Shown | None = None
    upn: Shown | None = None
    carers: tuple[CarerShown, ...] = ()
    involvements: tuple[InvolvementShown, ...] = ()
    # Of the involvements this viewer may see in full.
    lead: InvolvementShown | None = None
    caf: bool = False

    @property
    def school(self) -> InvolvementShown | None:
        return next((i for i in self.involvements if i.role == "School"), None)

    @property
    def gp(self) -> InvolvementShown | None:
        return next((i for i in self.involvements if i.role == "GP practice"), None)


def openable(principal: Principal, cpid: str) -> Child:
    """The child with this contactpoint ID, if the principal may open its record.

    Raises:
        NotFound: the ID is malformed or unknown, the record is closed, or the principal
            neither found the child nor may see it in full: one answer for all, so IDs
            cannot be tried one by one.
    """
    try:
        child = child_by_cpid(validate_cpid(cpid), archived=True)
    except (InvalidIdentifier, NotFound):
        _audit_refused(principal, None, "no open record has this ID")
        raise NotFound from None
    if child.status != Child.Status.ACTIVE:
        return _archived(principal, child)
    if not may_open(principal, child):
        _audit_refused(principal, child, "not found by this user's search")
        raise NotFound
    return child


def _archived(principal: Principal, child: Child) -> Child:
    """An archived record opens by its ID for whom `archived_purpose` allows; a purged one
    never opens, and only its local index team is told that it was purged.

    Raises:
        Purged: the record was purged, and the principal is its local index team.
        NotFound: anything else this principal may not read.
    """
    if child.status == Child.Status.ARCHIVED and archived_purpose(principal, child):
        return child
    team = local_team(principal, child.pk, Permission.AREA_ARCHIVED_CHILDREN_READ)
    _audit_refused(principal, child, f"{child.status}: not readable by this user now")
    raise Purged if team and child.status == Child.Status.PURGED else NotFound


def archived_purpose(
    principal: Principal, child: Child, today: dt.date | None = None
) -> str | None:
    """Why the principal may read this archived record now (the audit's purpose), or None.

    Its local index team alone, in the year after archiving; after that only with a
    statutory access of theirs still running (its reason is the purpose).
    """
    if child.status != Child.Status.ARCHIVED or child.archived_on is None:
        return None
    if not local_team(principal, child.pk, Permission.AREA_ARCHIVED_CHILDREN_READ):
        return None
    if in_first_year(child, today):
        return ARCHIVED_FIRST_YEAR
    if principal.kind != "user":
        return None
    running = (
        StatutoryAccess.objects.filter(
            holder=STATUTORY.holder(child.pk, principal.id), expires_at__gt=timezone.now()
        )
        .order_by("-expires_at")
        .first()
    )
    if running is None:
        return None
    cipher = ciphers_for({child.pk}).get(child.pk)
    return cipher.open_fixed(running, "reason") if cipher is not None else None


def in_first_year(child: Child, today: dt.date | None = None) -> bool:
    """Whether the child was archived less than ARCHIVED_READABLE_MONTHS ago."""
    if child.archived_on is None:
        return False
    today = today or timezone.localdate()
    return today < add_months(child.archived_on, ARCHIVED_READABLE_MONTHS)


OPEN = "child:record:open"


def _audit_refused(principal: Principal, child: Child | None, reason: str) -> None:
    """A refused opening is audited (repeated ones, and shielded children, are what misuse
    detection looks for); the ID typed is not kept: it may be a real child's."""
    details: dict[str, object] = {"reason": reason}
    if child is not None:
        details["shielded"] = child.shielded
    event = audit_log.entry(
        principal,
        OPEN,
        audit_log.REFUSED,
        child_id=child.pk if child else None,
        signals=SHIELDED if child is not None and child.shielded else "",
        details=details,
    )
    audit_log.append(event)


def child_areas(child_id: uuid.UUID) -> set[str]:
    """The council areas of the organisations that have worked with the child: its local
    index teams."""
    rows = with_links(Involvement.objects.filter(child_id=child_id))
    return {i.organisation.council_area.code for i in rows if i.organisation.council_area}


def sees_shielded(principal: Principal, child: Child) -> bool:
    """Whether the principal is the local index team of this (shielded) child."""
    return local_team(principal, child.pk, Permission.AREA_SHIELDED_CHILDREN_READ)


def local_area(principal: Principal, child_id: uuid.UUID, permission: Permission) -> str | None:
    """The principal's own council area when it is one of the child's and they hold the
    area permission there, else the first (by code) of the child's areas for which they
    hold it: the local index team they act as; None when they are in none. A role without
    the permission anywhere is answered without reading the child's areas."""
    if not decide(principal, permission):
        return None
    own = principal.area_code
    # The principal's own area first: one index read, and the answer for a purged child
    # too, whose links no key opens any more.
    digest = area_member(child_id, own) if own else None
    if (
        digest
        and decide(principal, permission, Target(area_code=own))
        and Involvement.objects.filter(child_id=child_id, area_member=digest).exists()
    ):
        return own
    areas = sorted(child_areas(child_id))
    return next((a for a in areas if decide(principal, permission, Target(area_code=a))), None)


def local_team(principal: Principal, child_id: uuid.UUID, permission: Permission) -> bool:
    """Whether the principal holds an area permission for one of the child's areas."""
    return local_area(principal, child_id, permission) is not None


def may_open(principal: Principal, child: Child) -> bool:
    """No browsing: a record opens for a child the principal found by a search within
    FINDING_LASTS, or one they may see in full (involved, in emergency, local index team).
    The caller has checked Permission.CHILD_RECORD_READ."""
    found = Finding.objects.filter(
        holder=finding(child.pk, principal.key),
        found_at__gt=timezone.now() - FINDING_LASTS,
    ).exists()
    return found or view_for(principal, child) is View.FULL


def view_for(principal: Principal, child: Child) -> View:
    if child.status != Child.Status.ACTIVE:  # archived: its local index team's alone
        return View.FULL if archived_purpose(principal, child) else View.WITHHELD
    if child.shielded:
        return View.FULL if sees_shielded(principal, child) else View.WITHHELD
    return View.FULL if contacts_decision(principal, child.pk) else View.IDENTITY


def record_for(principal: Principal, child: Child) -> Record:
    """The child's record as `principal` may see it, audited before it is returned. The
    caller has checked that the principal may read records at all
    (Permission.CHILD_RECORD_READ).

    Raises:
        NotFound: the child's data key is gone.
        AuditUnavailable: the view could not be audited (nothing may be shown).
    """
    shown, seen = _record_for(principal, child)
    details = {"view": shown.view.value, "fields": fields_shown(shown)}
    known = signals(principal, {child.pk: seen})[child.pk]
    purpose = archived_purpose(principal, child) or ""  # "" for a child not archived
    # A statutory reason says what befell the child: sealed. The first year's is not.
    clear, sealed = (purpose, "") if purpose == ARCHIVED_FIRST_YEAR else ("", purpose)
    event = audit_log.entry(
        principal,
        VIEW,
        purpose=clear,
        sealed_purpose=sealed,
        child_id=child.pk,
        signals=known,
        details=details,
    )
    audit_log.append(event)
    return shown


VIEW = "child:record:view"


def fields_shown(shown: Record) -> list[str]:
    """The names of the record's fields that hold something (for the audit event)."""
    return [
        f.name
        for f in fields(shown)
        if f.name not in ("child_id", "view", "shielded", "archived_on") and getattr(shown, f.name)
    ]


def _record_for(principal: Principal, child: Child) -> tuple[Record, Seen]:
    """The record as shown, and what misuse detection compares (whatever the view: a
    record shown in part is still a look at the child)."""
    view = view_for(principal, child)
    gold = golden.golden_record(child.pk)
    if gold is None:  # the data key is gone: nothing can be shown
        raise NotFound
    surnames = [f.value for f in (gold.family_name, *gold.former_family_names) if f]
    seen = Seen(
        " ".join(surnames) or None, gold.postcode.value if gold.postcode else None, child.shielded
    )
    names = source_names()

    def shown(field: golden.Field | None) -> Shown | None:
        if field is None:
            return None
        if view is not View.FULL:
            return Shown(field.value)
        p = field.provenance
        return Shown(field.value, names.get(p.source, p.source), p.as_at)

    identity = Record(
        child_id=child.pk,
        cpid=child.cpid,
        view=view,
        shielded=child.shielded,
        archived_on=child.archived_on if child.status == Child.Status.ARCHIVED else None,
        given_name=shown(gold.given_name),
        family_name=shown(gold.family_name),
        date_of_birth=shown(gold.date_of_birth),
        sex=shown(gold.sex),
    )
    if view is View.WITHHELD:
        return identity, seen
    open_involvements = list(Involvement.objects.filter(child=child, end_date__isnull=True))
    if view is View.IDENTITY:
        return replace(identity, services_involved=len(open_involvements)), seen
    today = timezone.localdate()
    facts = facts_of(with_links(open_involvements))
    open_involvements.sort(key=lambda i: (facts[i.pk].role, i.organisation.name))
    involvements = tuple(
        _involvement(
            inv, facts[inv.pk], principal.organisation_id, today, kept_by(inv, gold, names)
        )
        for inv in open_involvements
    )
    full = replace(
        identity,
        services_involved=len(open_involvements),
        emergency_until=_emergency_until(principal, child),
        former_family_names=tuple(s for f in gold.former_family_names if (s := shown(f))),
        address=shown(gold.address_line1),
        postcode=shown(gold.postcode),
        nhs_number=shown(gold.nhs_number),
        upn=shown(gold.upn),
        carers=tuple(
            CarerShown(
                c.relationship.replace("_", " ").capitalize(),
                c.parental_responsibility,
                _name(shown(c.given_name), shown(c.family_name)),
                shown(c.phone),
                shown(c.email),
            )
            for c in gold.carers
        ),
        involvements=involvements,
        lead=next((i for i in involvements if i.lead and not i.sensitive), None),
        caf=any(i.caf for i in involvements if not i.sensitive),
    )
    return full, seen


def kept_by(inv: Involvement, gold: golden.GoldenRecord, names: dict[str, str]) -> str:
    """The name of the source whose record keeps a feed involvement (the source sealed in
    the record, opened with the golden record), or that a person registered it."""
    if inv.source_record_id is None:
        return "Registered in contactpoint"
    code = gold.record_sources.get(inv.source_record_id)
    return names.get(code, code) if code else "Not known"


def _involvement(
    inv: Involvement, facts: InvolvementFacts, viewer_org: int, today: dt.date, source: str
) -> InvolvementShown:
    mine = inv.organisation_id == viewer_org
    if facts.sensitive and not mine:
        return InvolvementShown(inv.pk, sensitive=True, mine=False)
    org: Organisation = inv.organisation
    person = inv.practitioner
    return InvolvementShown(
        inv.pk,
        sensitive=facts.sensitive,
        mine=mine,
        organisation=org.name,
        organisation_code=org.code,
        organisation_phone=org.phone,
        organisation_email=org.email,
        organisation_address=", ".join(p for p in (org.address_line1, org.town, org.postcode) if p),
        role=facts.role_label,
        practitioner=person.name if person else "",
        job_title=person.job_title if person else "",
        phone=person.phone if person else "",
        email=person.email if person else "",
        last_confirmed=inv.last_confirmed,
        stale=today - inv.last_confirmed > STALE_AFTER,
        lead=inv.lead_professional,
        caf=inv.caf_exists,
        kept_by=source,
    )


def _name(given: Shown | None, family: Shown | None) -> Shown | None:
    parts = [s for s in (given, family) if s]
    if not parts:
        return None
    return Shown(" ".join(s.value for s in parts), parts[0].source, parts[0].as_at)


def _emergency_until(principal: Principal, child: Child) -> dt.datetime | None:
    if principal.kind != "user":
        return None
    return (
        EmergencyAccess.objects.filter(
            holder=holder(child.pk, principal.id), expires_at__gt=timezone.now()
        )
        .order_by("-expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )


def source_names() -> dict[str, str]:
    return dict(Source.objects.values_list("code", "name"))
