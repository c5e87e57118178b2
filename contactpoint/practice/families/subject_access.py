"""Subject-access reports: what is held about a child, and who looked (docs/families.md).

The local index team of the child's area records a family's request (after checking the
requester's identity), makes the report and issues it as a page and a PDF. A report holds
every field of the golden record with its source and as-at date, the involvements with
organisation, role and the organisation's contact details (never a member of staff), and
the access history from the audit log by organisation and role, with date and purpose.

Two rules keep it from harming the child:
- accesses made as part of a child protection enquiry are withheld until the team
  releases that enquiry (the report says only that some accesses are withheld for now);
- a shielded child's report, asked for by anyone but the young person themself, shows
  the identity fields alone and "contact the local index team": the requester may be the
  adult the child is shielded from.

Each request, report and PDF, and each release, writes its audit event first.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from contactpoint.access.permissions import Permission
from contactpoint.access.users import Actor, Invalid, Refused, require
from contactpoint.audit import log as audit_log
from contactpoint.audit.models import Event
from contactpoint.oversight.activity import SEARCH
from contactpoint.practice.families import subject_access_history as access_history
from contactpoint.practice.families.subject_access_history import Access, Enquiry
from contactpoint.practice.models.families import EnquiryRelease, SubjectAccessRequest
from contactpoint.practice.record import ADDITIONAL_SERVICE, kept_by, source_names
from contactpoint.practice.record import local_area as team_area
from contactpoint.registry import golden
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.involvement_facts import InvolvementFacts, facts_of, with_links
from contactpoint.registry.lookup import NotFound
from contactpoint.registry.models import Child, Involvement

MANAGE = Permission.AREA_SUBJECT_ACCESS_MANAGE
NOT_LOCAL = "only the local index team of the child's area makes its subject-access reports"
CONTACT_TEAM = "For anything else held about this child, contact the local index team."
WITHHELD_FOR_NOW = "Some accesses are withheld for now."
MAX_NOTE = 2000
RELATIONSHIP_SIZE = 16  # `representative`, the longest relationship, is 14 bytes
CHECK_SIZE = 20  # `birth_certificate`, the longest identity check, is 17 bytes
SEX = {"F": "Female", "M": "Male", "U": "Not known"}

Relationship = SubjectAccessRequest.Relationship
IdentityCheck = SubjectAccessRequest.IdentityCheck


@dataclass(frozen=True)
class Held:
    """One field held about the child, where it came from and when it was true."""

    label: str
    value: str
    source: str
    as_at: dt.date


@dataclass(frozen=True)
class InvolvementHeld:
    organisation: str
    role: str
    contact: str  # the organisation's address, phone and e-mail: never a person's
    last_confirmed: dt.date | None
    ended: dt.date | None
    lead: bool
    caf: bool
    kept_by: str


@dataclass(frozen=True)
class Report:
    request_id: uuid.UUID
    cpid: str
    requested_at: dt.datetime
    relationship: str
    issued_at: dt.datetime | None
    restricted: bool  # shielded, and not asked by the young person: identity fields only
    fields: tuple[Held, ...]
    involvements: tuple[InvolvementHeld, ...]
    accesses: tuple[Access, ...]
    withheld: bool  # some accesses are withheld (never how many)
    # For the local index team's release step; never part of what the family is given.
    enquiries: tuple[Enquiry, ...]


def local_area(actor: Actor, child: Child) -> str:
    """The child's council area whose index team the actor is in.

    Raises:
        Refused: the actor may not manage subject access, or not for this child's areas.
    """
    require(actor, MANAGE)
    if (area := team_area(actor.principal, child.pk, MANAGE)) is None:
        raise Refused(NOT_LOCAL)
    return area


def may_manage(actor: Actor, child: Child) -> bool:
    try:
        local_area(actor, child)
    except Refused:
        return False
    return True


def record_request(
    actor: Actor, child: Child, relationship: str, identity_check: str, note: str = ""
) -> SubjectAccessRequest:
    """Record a family's request, after the team has checked the requester's identity.

    Raises:
        Refused: not the child's local index team, or not a person.
        Invalid: no relationship or identity check chosen, or too long a note.
    """
    local_area(actor, child)
    if actor.user is None:
        raise Refused("a subject-access request is recorded by a person")
    if relationship not in Relationship.values:
        raise Invalid("select who is asking")
    if identity_check not in IdentityCheck.values:
        raise Invalid("select how you checked the requester's identity")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise Invalid(f"keep the note under {MAX_NOTE:,} characters")
    row_id = uuid.uuid4()
    cipher = ciphers_for({child.pk})[child.pk]
    with transaction.atomic():
        request = SubjectAccessRequest.objects.create(
            id=row_id,
            child=child,
            requested_at=timezone.now(),
            recorded_by=actor.user,
            relationship=cipher.seal_fixed(
                SubjectAccessRequest, "relationship", row_id, relationship, RELATIONSHIP_SIZE
            ),
            identity_check=cipher.seal_fixed(
                SubjectAccessRequest, "identity_check", row_id, identity_check, CHECK_SIZE
            ),
            note=cipher.seal(SubjectAccessRequest, "note", row_id, note),
        )
        _audit(actor, "request", request)
    return request


def requests_for(actor: Actor, child: Child) -> list[SubjectAccessRequest]:
    local_area(actor, child)
    return list(SubjectAccessRequest.objects.filter(child=child).order_by("-requested_at"))


def relationship_of(request: SubjectAccessRequest) -> str:
    """Who asked (a Relationship), opened; a parent's when the child's key is gone (the
    report then shows nothing anyway: the record is purged)."""
    cipher = ciphers_for({request.child_id}).get(request.child_id)
    if cipher is None:
        return Relationship.PARENT
    return cipher.open_fixed(request, "relationship")


def identity_check_of(request: SubjectAccessRequest) -> str:
    """How the team checked who asked, in words, opened ("" when the child's key is gone)."""
    cipher = ciphers_for({request.child_id}).get(request.child_id)
    if cipher is None:
        return ""
    return str(IdentityCheck(cipher.open_fixed(request, "identity_check")).label)


def note_of(request: SubjectAccessRequest) -> str:
    """The team's note, opened ("" when there is none or the child's key is gone)."""
    cipher = ciphers_for({request.child_id}).get(request.child_id)
    return (cipher.open_field(request, "note") or "") if cipher else ""


def request_of(actor: Actor, request_id: uuid.UUID) -> SubjectAccessRequest:
    """The request, if the actor is the local index team of its child.

    Raises:
        NotFound: no such request.
        Refused: not the child's local index team.
    """
    require(actor, MANAGE)
    request = SubjectAccessRequest.objects.select_related("child").filter(pk=request_id).first()
    if request is None:
        raise NotFound
    local_area(actor, request.child)
    return request


def report(actor: Actor, request_id: uuid.UUID, pdf: bool = False) -> Report:
    """The report of one request, audited before it is returned (`pdf`: as the PDF, which
    issues the request).

    Raises:
        NotFound: no such request, or the child's data key is gone.
        Refused: not the child's local index team.
    """
    request = request_of(actor, request_id)
    with transaction.atomic():
        _audit(actor, "pdf" if pdf else "report", request)
        if pdf and request.issued_at is None:
            request.status = SubjectAccessRequest.Status.ISSUED
            request.issued_at = timezone.now()
            request.save(update_fields=["status", "issued_at"])
    return build(request)


def build(request: SubjectAccessRequest) -> Report:
    """The report's facts (no audit, no permission: `report` is the way in)."""
    child = request.child
    gold = golden.golden_record(child.pk)
    if gold is None:
        raise NotFound
    asked_by = relationship_of(request)
    restricted = child.shielded and asked_by != Relationship.YOUNG_PERSON
    history = access_history.history(child.pk, _excluded(request))
    hidden = set() if asked_by == Relationship.YOUNG_PERSON else _sensitive(child)
    return Report(
        request_id=request.pk,
        cpid=child.cpid,
        requested_at=request.requested_at,
        relationship=Relationship(asked_by).label,
        issued_at=request.issued_at,
        restricted=restricted,
        fields=_fields(gold, identity_only=restricted),
        involvements=() if restricted else _involvements(child, gold, hidden),
        accesses=() if restricted else access_history.named(history.shown, hidden),
        withheld=history.withheld and not restricted,
        enquiries=history.enquiries,
    )


@transaction.atomic
def release_enquiry(actor: Actor, request_id: uuid.UUID, event_index: int) -> EnquiryRelease:
    """Release the accesses of the enquiry that began with the search at `event_index`.

    Raises:
        NotFound: no such request.
        Refused: not the child's local index team, or not a person.
        Invalid: the event is not a child protection enquiry's search of this child.
    """
    request = request_of(actor, request_id)
    if actor.user is None:
        raise Refused("an enquiry is released by a person")
    event = Event.objects.filter(
        index=event_index, child_tag=audit_log.child_tag(request.child_id), action=SEARCH
    ).first()
    # The search's purpose is sealed: opened to see that it was an enquiry's.
    if event is None or audit_log.purposes_of([event])[event.index] != access_history.ENQUIRY:
        raise Invalid("select an enquiry of this child")
    day = timezone.localdate(event.at)
    with transaction.atomic():
        _audit(actor, "release-enquiry", request, event=event_index)
        release, _ = EnquiryRelease.objects.get_or_create(
            enquiry=access_history.enquiry_tag(request.child_id, (event.principal, day)),
            defaults={"released_by": actor.user, "released_at": timezone.now()},
        )
    return release


def _audit(actor: Actor, step: str, request: SubjectAccessRequest, **ids: object) -> None:
    entry = audit_log.entry(
        actor.principal,
        f"families:subject-access:{step}",
        child_id=request.child_id,
        details={"subject_access_request": str(request.pk), **ids},
    )
    audit_log.append(entry)


def _excluded(request: SubjectAccessRequest) -> tuple[str, dt.date]:
    """The index team member who recorded the request, on its day: finding the child to
    make the report is not an access the family asked about."""
    return f"user:{request.recorded_by_id}", timezone.localdate(request.requested_at)


def _sensitive(child: Child) -> set[int]:
    """Organisations giving the child a sensitive service: shown to the young person
    alone; anyone else reads "An additional service is involved"."""
    rows = Involvement.objects.filter(child=child)
    return {i.organisation_id for i, f in _with_facts(rows) if f.sensitive}


def _with_facts(rows: Iterable[Involvement]) -> list[tuple[Involvement, InvolvementFacts]]:
    """Each involvement with its opened facts (none when the child's data key is gone)."""
    listed = with_links(rows)
    facts = facts_of(listed)
    return [(i, facts[i.pk]) for i in listed if i.pk in facts]


def _fields(gold: golden.GoldenRecord, identity_only: bool) -> tuple[Held, ...]:
    names = source_names()
    out: list[Held] = []

    def add(label: str, field: golden.Field | None, words: str | None = None) -> None:
        if field is not None:
            p = field.provenance
            out.append(Held(label, words or field.value, names.get(p.source, p.source), p.as_at))

    add("Given name", gold.given_name)
    add("Family name", gold.family_name)
    if gold.date_of_birth:
        add("Date of birth", gold.date_of_birth, _long(gold.date_of_birth.value))
    if gold.sex:
        add("Sex", gold.sex, SEX.get(gold.sex.value, gold.sex.value))
    if identity_only:
        return tuple(out)
    for former in gold.former_family_names:
        add("Former family name", former)
    add("Address", gold.address_line1)
    add("Postcode", gold.postcode)
    add("NHS number", gold.nhs_number)
    add("Unique pupil number", gold.upn)
    for carer in gold.carers:
        who = carer.relationship.replace("_", " ").capitalize()
        if carer.parental_responsibility:
            who += " (parental responsibility)"
        add(f"{who}: given name", carer.given_name)
        add(f"{who}: family name", carer.family_name)
        add(f"{who}: phone", carer.phone)
        add(f"{who}: e-mail", carer.email)
    return tuple(out)


def _long(iso: str) -> str:
    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {day:%B %Y}"


def _involvements(
    child: Child, gold: golden.GoldenRecord, hidden: set[int]
) -> tuple[InvolvementHeld, ...]:
    rows = _with_facts(Involvement.objects.filter(child=child).order_by("end_date"))
    names = source_names()
    # Within each end date (in the database's order of them), by role then organisation.
    ends = {d: n for n, d in enumerate(dict.fromkeys(i.end_date for i, _ in rows))}
    rows.sort(key=lambda r: (ends[r[0].end_date], r[1].role, r[0].organisation.name))
    out = []
    for inv, facts in rows:
        org = inv.organisation
        if inv.organisation_id in hidden:
            out.append(InvolvementHeld(ADDITIONAL_SERVICE, "", "", None, inv.end_date, *_no()))
            continue
        place = [org.address_line1, org.town, org.postcode, org.phone, org.email]
        out.append(
            InvolvementHeld(
                organisation=org.name,
                role=facts.role_label,
                contact=", ".join(p for p in place if p),
                last_confirmed=inv.last_confirmed,
                ended=inv.end_date,
                lead=inv.lead_professional,
                caf=inv.caf_exists,
                kept_by=kept_by(inv, gold, names),
            )
        )
    return tuple(out)


def _no() -> tuple[bool, bool, str]:
    return False, False, ""
