"""The practitioner journey for case-management systems: find a child, read the record as
the client may see it, and register and keep up the client's organisation's involvement.

No browsing: a record opens only for a child this client found by a search in the last
ten hours, or one it may see in full
(`contactpoint.practice.record.may_open`). Any other ID answers 404 exactly as
an unknown one does, so the API says nothing about who is on the index. What a record
shows is decided by `contactpoint.practice.record` alone; the answer shows
that or less (`record_out`).

Emergency access, a request to a sensitive service and a handover decision are for people
who have proved a second factor: they are on the web pages only. A client that would need
a handover to take the lead professional role is told so (409).
"""

# No `from __future__ import annotations`: see contactpoint/api/oauth.py.

import uuid

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import P, PathEx, Router, Status

from contactpoint.access.permissions import Permission, Principal
from contactpoint.access.users import Invalid
from contactpoint.api.child_schemas import (
    AdditionalService,
    CafIn,
    Candidate,
    CarerOut,
    ChildRecord,
    FullRecord,
    IdentityRecord,
    InvolvementOut,
    InvolvementState,
    NewInvolvement,
    OrganisationContact,
    PractitionerContact,
    SearchAnswer,
    SearchIn,
    SearchProblem,
    Shown,
    Value,
    WithheldRecord,
)
from contactpoint.api.rules import actor_of, api_rule
from contactpoint.api.schemas import Problem
from contactpoint.practice import involvements, record
from contactpoint.practice.involvements import Conflict, Details
from contactpoint.practice.involvements.registration import RegistrationLimit
from contactpoint.registry import lookup
from contactpoint.registry.involvement_facts import facts_one
from contactpoint.registry.models import Child, Involvement
from contactpoint.search import criteria as search_criteria
from contactpoint.search import service

router = Router(tags=["children"])

# 503: the audit log cannot be written, so nothing is done or shown (docs/audit.md).
DENIED = {401: Problem, 403: Problem, 503: Problem}
# 400: not JSON at all, or refused by the service with a reason; 422: not the document's.
REFUSALS = {400: Problem, **DENIED, 404: Problem, 422: Problem}
# 415: a body not sent as JSON (contactpoint.api.inputs), for the operations that take one.
NOT_JSON = {415: Problem}
QUOTA = (
    "This client, or its organisation, has made as many searches as the hour or the day "
    "allows: try again later"
)
REGISTER_TO_SEE = "Register your service's involvement with the child to see who works with them"
# Long enough for any way of writing a contactpoint ID ("CP-7Q2M-XB4N-9KDT-1", spaced).
Cpid = PathEx[str, P(max_length=32)]


@router.post(
    "/children/search",
    response={
        200: SearchAnswer,
        400: SearchProblem,
        **DENIED,
        **NOT_JSON,
        422: Problem,
        429: Problem,
    },
    url_name="child_search",
)
@api_rule(Permission.CHILD_RECORDS_SEARCH)
def search(request: HttpRequest, asked: SearchIn) -> Status[SearchAnswer | SearchProblem | Problem]:
    """Find a child: at most five candidates, or none with what to add. Counts against the
    client's hourly and daily quota, and lets it open the records of those shown."""
    try:
        criteria = search_criteria.check(asked_of(asked), timezone.localdate())
    except search_criteria.Refused as refused:
        # Named as SearchIn's fields are: the criteria's own names.
        errors: dict[str, str] = {field: says for field, says in refused.errors.items()}
        return Status(400, SearchProblem(detail="; ".join(errors.values()), errors=errors))
    try:
        result = service.search(actor_of(request).principal, criteria)
    except service.QuotaExceeded:
        return Status(429, Problem(detail=QUOTA))
    candidates = [
        Candidate(
            cpid=c.cpid,
            given_name=c.given_name,
            family_name=c.family_name,
            birth_year=c.birth_year,
            district=c.district,
        )
        for c in result.candidates
    ]
    return Status(200, SearchAnswer(candidates=candidates, message=result.message))


def asked_of(asked: SearchIn) -> search_criteria.Asked:
    """The search as the client asks it (SearchIn's fields are the criteria's, by name)."""
    return search_criteria.Asked(
        purpose=asked.purpose,
        date_of_birth=asked.date_of_birth,
        family_name=asked.family_name,
        given_name=asked.given_name,
        postcode=asked.postcode,
        nhs_number=asked.nhs_number,
        upn=asked.upn,
    )


@router.get("/children/{cpid}", response={200: ChildRecord, **REFUSALS}, url_name="child_record")
@api_rule(Permission.CHILD_RECORD_READ)
def read_record(request: HttpRequest, cpid: Cpid) -> WithheldRecord | IdentityRecord | FullRecord:
    """The child's record as the client may see it: withheld, identity or full."""
    principal = actor_of(request).principal
    child = openable_child(principal, cpid)
    try:
        shown = record.record_for(principal, child)
    except lookup.NotFound as error:
        raise Http404 from error
    return record_out(shown)


@router.post(
    "/children/{cpid}/involvements",
    response={201: InvolvementState, **REFUSALS, 409: Problem, 429: Problem, **NOT_JSON},
    url_name="child_involvements",
)
@api_rule(Permission.CHILD_INVOLVEMENT_REGISTER)
def register(
    request: HttpRequest, cpid: Cpid, new: NewInvolvement
) -> Status[InvolvementState | Problem]:
    """Record that the client's organisation works with the child, for the practitioner
    named: its record then shows in full, and every service already involved is told.
    403 when the practitioner is not an active user of the organisation who may register;
    400 when the role is not one the organisation's kind has; 429 when the practitioner's
    or the organisation's registrations for the day are used up."""
    actor = actor_of(request)
    child = openable_child(actor.principal, cpid)
    details = Details(
        role=new.role,
        job_title=new.job_title,
        phone=new.phone,
        practitioner=new.practitioner,
        sensitive_category=new.sensitive_category,
        consent_basis=new.consent_basis,
        notice_risk=new.family_notice_risk,
    )
    try:
        involvement = involvements.register(actor, child, details)
    except RegistrationLimit as error:
        return Status(429, Problem(detail=str(error)))
    except Conflict as error:
        return Status(409, Problem(detail=str(error)))
    except Invalid as error:
        return Status(400, Problem(detail=str(error)))
    return Status(201, state_of(involvement))


CHANGED = {200: InvolvementState, **REFUSALS}


@router.post("/involvements/{involvement_id}/confirm", response=CHANGED, url_name="confirm")
@api_rule(Permission.CHILD_INVOLVEMENT_MANAGE)
def confirm(request: HttpRequest, involvement_id: uuid.UUID) -> InvolvementState:
    """Confirm that the involvement goes on (every involvement expires unconfirmed)."""
    return state_of(involvements.confirm(actor_of(request), involvement_id))


@router.post("/involvements/{involvement_id}/end", response=CHANGED, url_name="end")
@api_rule(Permission.CHILD_INVOLVEMENT_MANAGE)
def end(request: HttpRequest, involvement_id: uuid.UUID) -> InvolvementState:
    """End the involvement: the service no longer works with the child."""
    return state_of(involvements.end(actor_of(request), involvement_id))


@router.post(
    "/involvements/{involvement_id}/lead",
    response={**CHANGED, 409: Problem},
    url_name="lead",
)
@api_rule(Permission.CHILD_INVOLVEMENT_MANAGE)
def lead(request: HttpRequest, involvement_id: uuid.UUID) -> Status[InvolvementState | Problem]:
    """Become the lead professional when the child has none. When another service leads,
    the handover is agreed between people on the web pages: 409."""
    actor = actor_of(request)
    try:
        involvements.become_lead(actor, involvement_id)
    except Conflict as error:
        return Status(409, Problem(detail=str(error)))
    return Status(200, state_of(Involvement.objects.get(pk=involvement_id)))


@router.post("/involvements/{involvement_id}/caf", response={**CHANGED, **NOT_JSON}, url_name="caf")
@api_rule(Permission.CHILD_INVOLVEMENT_MANAGE)
def caf(request: HttpRequest, involvement_id: uuid.UUID, caf: CafIn) -> InvolvementState:
    """Record whether a CAF / early-help assessment exists (never the assessment)."""
    return state_of(involvements.record_caf(actor_of(request), involvement_id, caf.exists))


def openable_child(principal: Principal, cpid: str) -> Child:
    """The child, if the client may open its record; otherwise 404, as for an unknown ID."""
    try:
        return record.openable(principal, cpid)
    except lookup.NotFound as error:
        raise Http404 from error


def state_of(involvement: Involvement) -> InvolvementState:
    """The involvement as its own organisation's client sees it (facts opened)."""
    facts = facts_one(involvement)
    return InvolvementState(
        id=involvement.pk,
        role=facts.role,
        last_confirmed=involvement.last_confirmed,
        ended_on=involvement.end_date,
        lead=involvement.lead_professional,
        caf=involvement.caf_exists,
        sensitive_category=facts.sensitive_category,
    )


# --- a record as the API shows it: what `record_for` holds, or less -----------------------


def record_out(shown: record.Record) -> WithheldRecord | IdentityRecord | FullRecord:
    if shown.view is record.View.WITHHELD:
        return WithheldRecord(
            view="withheld", cpid=shown.cpid, **_values(shown), message=involvements.SHIELDED
        )
    if shown.view is record.View.IDENTITY:
        return IdentityRecord(
            view="identity",
            cpid=shown.cpid,
            **_values(shown),
            services_involved=shown.services_involved,
            message=REGISTER_TO_SEE,
        )
    entries = [_entry(i) for i in shown.involvements]
    return FullRecord(
        cpid=shown.cpid,
        shielded=shown.shielded,
        given_name=_shown(shown.given_name),
        family_name=_shown(shown.family_name),
        former_family_names=[s for f in shown.former_family_names if (s := _shown(f))],
        date_of_birth=_shown(shown.date_of_birth),
        sex=_shown(shown.sex),
        address=_shown(shown.address),
        postcode=_shown(shown.postcode),
        nhs_number=_shown(shown.nhs_number),
        upn=_shown(shown.upn),
        carers=[
            CarerOut(
                relationship=c.relationship,
                parental_responsibility=c.parental_responsibility,
                name=_shown(c.name),
                phone=_shown(c.phone),
                email=_shown(c.email),
            )
            for c in shown.carers
        ],
        services_involved=shown.services_involved,
        involvements=entries,
        lead=_involvement(shown.lead) if shown.lead else None,
        caf=shown.caf,
    )


def _values(shown: record.Record) -> dict[str, Value | None]:
    """The identity fields without their sources (see contactpoint.api.child_schemas)."""
    fields = {
        "given_name": shown.given_name,
        "family_name": shown.family_name,
        "date_of_birth": shown.date_of_birth,
        "sex": shown.sex,
    }
    return {k: Value(value=f.value) if f else None for k, f in fields.items()}


def _shown(field: record.Shown | None) -> Shown | None:
    if field is None:
        return None
    return Shown(value=field.value, source=field.source, as_at=field.as_at)


def _entry(inv: record.InvolvementShown) -> InvolvementOut | AdditionalService:
    if inv.sensitive and not inv.mine:
        return AdditionalService(description=record.ADDITIONAL_SERVICE)
    return _involvement(inv)


def _involvement(inv: record.InvolvementShown) -> InvolvementOut:
    person = None
    if inv.practitioner:
        person = PractitionerContact(
            name=inv.practitioner, job_title=inv.job_title, phone=inv.phone, email=inv.email
        )
    return InvolvementOut(
        id=inv.id,
        mine=inv.mine,
        sensitive=inv.sensitive,
        role=inv.role,
        organisation=OrganisationContact(
            name=inv.organisation,
            code=inv.organisation_code,
            phone=inv.organisation_phone,
            email=inv.organisation_email,
            address=inv.organisation_address,
        ),
        practitioner=person,
        last_confirmed=inv.last_confirmed,
        stale=inv.stale,
        lead=inv.lead,
        caf=inv.caf,
        kept_by=inv.kept_by,
    )
