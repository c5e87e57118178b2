"""What a practitioner does with a child: register, confirm and end an involvement, take or
hand over the lead professional role, record that a CAF / early-help assessment exists,
and ask a sensitive service to get in touch. Web pages and the API both call these.

Registering is open to any practitioner who found the child (it is how they earn the
child's contacts, and everyone already involved is told at once), in a role their
organisation's kind has, with a person answering for it and within the day's limits
(contactpoint.practice.involvements.registration); every other change needs the user's
organisation to be involved (the relationship rule).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, NoReturn

from django.db import IntegrityError, transaction
from django.utils import timezone

from contactpoint.access.models import User
from contactpoint.access.permissions import Permission, Target
from contactpoint.access.users import Actor, Invalid, Refused, require
from contactpoint.audit import log as audit_log
from contactpoint.practice.families import family_notices
from contactpoint.practice.involvements import alerts, contact_requests, handovers, registration
from contactpoint.practice.models import Alert, ContactRequest, Handover
from contactpoint.practice.record import View, child_areas, may_open, view_for
from contactpoint.registry import involvement_facts
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.involvement_facts import (
    InvolvementFacts,
    facts_of,
    facts_one,
    member,
    with_links,
    without_sensitive,
)
from contactpoint.registry.lookup import NotFound
from contactpoint.registry.models import Child, Involvement, Organisation, Practitioner

SHIELDED = "This child's record is shielded: contact the local index team"


class Conflict(Invalid):
    """Not possible in the record's present state (already registered, already the lead, a
    handover needed), as opposed to details given wrongly: the API answers 409, not 400."""


@dataclass(frozen=True)
class Details:
    """How to reach the practitioner who registers (a user's name and e-mail come from
    their account; an API client gives them all)."""

    role: str
    job_title: str
    phone: str
    # An API client's registration: the sign-in e-mail of the practitioner it acts for
    # (a user registers for themselves; their name and e-mail come from their account).
    practitioner: str = ""
    sensitive_category: str | None = None
    consent_basis: str | None = None
    # Telling the family would put the child at risk: the practitioner's reason code
    # (FamilyNotice.Risk). None, the default: a family notice is due.
    notice_risk: str | None = None


def _check_details(details: Details) -> None:
    if details.role not in Involvement.Role.values:
        raise Invalid("Select the role your service has with the child")
    if details.sensitive_category is not None:
        if details.sensitive_category not in Involvement.SensitiveCategory.values:
            raise Invalid("Select the kind of sensitive service")
        if details.consent_basis not in Involvement.ConsentBasis.values:
            raise Invalid("A sensitive service can be recorded only with a consent basis")
    family_notices.check_risk(details.notice_risk)
    for text, most in ((details.job_title, 120), (details.phone, 30), (details.practitioner, 254)):
        if len(text) > most:
            raise Invalid("An answer is too long")


def _visible(actor: Actor, child: Child) -> None:
    """The actor found the child (no registering by a guessed ID), and a shielded child's
    involvements are for the local index team alone.

    Raises:
        NotFound: the actor may not open the child's record (as for an unknown ID).
        Refused: the child is shielded from the actor.
    """
    if not may_open(actor.principal, child):
        raise NotFound
    if view_for(actor.principal, child) is View.WITHHELD:
        raise Refused(SHIELDED)


def register(actor: Actor, child: Child, details: Details) -> Involvement:
    """Record that the actor's organisation works with the child, and tell the others.

    Call it outside any transaction: a refusal's audit event must outlast the refusal.

    Raises:
        Refused: the actor may not register, the child is shielded from them, or (an API
            client) the practitioner named is not theirs or may not register.
        Invalid: the details are incomplete, the role is not one the organisation's kind
            has (RoleNotAllowed), or this service is already registered.
        RegistrationLimit: the person's or the organisation's registrations for the day
            are used up (audited).
    """
    require(actor, Permission.CHILD_INVOLVEMENT_REGISTER)
    _visible(actor, child)
    _check_details(details)
    organisation = Organisation.objects.get(pk=actor.principal.organisation_id)
    registration.check_role(organisation.kind, details.role)
    if child.status != Child.Status.ACTIVE:
        raise Conflict("This record is closed")
    user = registration.person_for(actor, details.practitioner)
    # A day's registrations already used up refuse before anything is written ...
    if registration.used_up(user):
        _limited(actor, child, user)
    with transaction.atomic():
        # ... and this one is counted in its own transaction: a registration that fails
        # (already registered) or raced past the read above to a full count leaves none.
        involvement = _insert(actor, child, details, user) if registration.take(user) else None
        if involvement is None:
            transaction.set_rollback(True)
    if involvement is None:
        _limited(actor, child, user)
    return involvement


def _limited(actor: Actor, child: Child, user: User) -> NoReturn:
    event = audit_log.entry(
        actor.principal,
        "child:involvement:register",
        audit_log.REFUSED,
        child_id=child.pk,
        details={"reason": "daily limit", "for_user": str(user.pk)},
    )
    audit_log.append(event)
    raise registration.RegistrationLimit


def _insert(actor: Actor, child: Child, details: Details, user: User) -> Involvement:
    """Write the involvement, tell the others and audit it (inside the caller's transaction)."""
    organisation_id = actor.principal.organisation_id
    today = timezone.localdate()
    person = _practitioner(user, details, organisation_id)
    cipher = ciphers_for({child.pk})[child.pk]
    involvement = Involvement(id=uuid.uuid4(), child=child, last_confirmed=today)
    involvement.organisation = Organisation.objects.select_related("council_area").get(
        pk=organisation_id
    )
    involvement.practitioner = person
    involvement_facts.seal(cipher, involvement, _facts(details), today)
    try:
        with transaction.atomic():
            involvement.save(force_insert=True)
    except IntegrityError:
        raise Conflict("Your service is already registered with this child in that role") from None
    _tell_others(child, involvement)
    # A client's registration names the person it answers for.
    acting = {} if actor.user is not None else {"for_user": str(user.pk)}
    audited(actor, "register", involvement, role=details.role, **acting)
    family_notices.on_registered(actor, child, involvement, details.notice_risk)
    return involvement


def _facts(details: Details) -> InvolvementFacts:
    """The role, and a sensitive service's category with its consent basis (checked)."""
    if details.sensitive_category is None:
        return InvolvementFacts(details.role)
    return InvolvementFacts(details.role, details.sensitive_category, details.consent_basis)


def _practitioner(user: User, details: Details, organisation_id: int) -> Practitioner:
    """The person others contact: the user who answers for the registration, with the
    job title and phone given (name and e-mail from their account)."""
    fields = {
        "organisation_id": organisation_id,
        "name": user.name,
        "job_title": details.job_title.strip(),
        "phone": details.phone.strip(),
        "email": user.email,
    }
    person, _ = Practitioner.objects.update_or_create(user=user, defaults=fields)
    return person


def _tell_others(child: Child, joined: Involvement) -> None:
    """Everyone already involved learns who joined, so they can agree who coordinates.

    A sensitive service joining is told to no one; a shielded child's joiner is told to
    its local index team only.
    """
    if facts_one(joined).sensitive:
        return
    if child.shielded:
        alerts.raise_alert(
            alerts.index_team_of(child_areas(child.pk)),
            Alert.Kind.SHIELDED_JOINED,
            child=child,
            involvement=joined,
        )
        return
    open_ones = with_links(Involvement.objects.filter(child=child, end_date__isnull=True))
    others = [i for i in open_ones if i.organisation_id != joined.organisation_id]
    alerts.raise_alert(
        alerts.people_involved(others), Alert.Kind.JOINED, child=child, involvement=joined
    )


def own_involvement(actor: Actor, involvement_id: uuid.UUID) -> Involvement:
    """An open involvement of the actor's organisation (anything else: Refused, naming
    nothing about it). A shielded child's involvements change only through its local index
    team: an answer would show the involvement, and a lead or handover would alert others."""
    involvement = (
        Involvement.objects.select_related("child")
        .filter(pk=involvement_id, end_date__isnull=True)
        .first()
    )
    # Whose it is, by the keyed digest of child and organisation: the link itself is sealed.
    ours = member(involvement.child_id, actor.principal.organisation_id) if involvement else b""
    if involvement is None or bytes(involvement.member) != ours:
        raise Refused("Only a service involved with the child can change its involvement")
    require(actor, Permission.CHILD_INVOLVEMENT_MANAGE, Target(relationship=True))
    if view_for(actor.principal, involvement.child) is View.WITHHELD:
        raise Refused(SHIELDED)
    return involvement


def audited(actor: Actor, action: str, involvement: Involvement, **details: Any) -> None:
    """Write the audit event of a change, inside the change's transaction: if the event
    cannot be written (AuditUnavailable), the change is not made either."""
    event = audit_log.entry(
        actor.principal,
        f"child:involvement:{action}",
        child_id=involvement.child_id,
        details={"involvement": str(involvement.pk), **details},
    )
    audit_log.append(event)


@transaction.atomic
def confirm(actor: Actor, involvement_id: uuid.UUID) -> Involvement:
    with transaction.atomic():
        involvement = own_involvement(actor, involvement_id)
        involvement.last_confirmed = timezone.localdate()
        involvement.reminded_on = None
        involvement.save(update_fields=["last_confirmed", "reminded_on"])
        audited(actor, "confirm", involvement)
    return involvement


@transaction.atomic
def end(actor: Actor, involvement_id: uuid.UUID) -> Involvement:
    with transaction.atomic():
        involvement = own_involvement(actor, involvement_id)
        involvement.end_date = timezone.localdate()
        involvement.ending = Involvement.Ending.ENDED
        involvement.lead_professional = False
        involvement.save(update_fields=["end_date", "ending", "lead_professional"])
        waiting = handovers.naming(involvement.child_id, involvement.pk, Handover.Status.PROPOSED)
        Handover.objects.filter(pk__in=[h.pk for h in waiting]).update(
            status=Handover.Status.WITHDRAWN
        )
        audited(actor, "end", involvement)
    return involvement


@transaction.atomic
def record_caf(actor: Actor, involvement_id: uuid.UUID, exists: bool) -> Involvement:
    """Record whether a CAF / early-help assessment exists (never the assessment itself)."""
    with transaction.atomic():
        involvement = own_involvement(actor, involvement_id)
        involvement.caf_exists = exists
        involvement.save(update_fields=["caf_exists"])
        audited(actor, "caf", involvement, exists=exists)
    return involvement


@transaction.atomic
def become_lead(actor: Actor, involvement_id: uuid.UUID) -> Handover | None:
    """Make the actor's involvement the lead: at once when there is none, otherwise by a
    handover the current lead's service agrees to (returned, proposed)."""
    with transaction.atomic():
        involvement = own_involvement(actor, involvement_id)
        if facts_one(involvement).sensitive:
            raise Conflict("A sensitive service is not shown to others, so it cannot lead")
        if involvement.lead_professional:
            raise Conflict("Your service is already the lead professional")
        current = (
            Involvement.objects.select_for_update()
            .filter(child_id=involvement.child_id, end_date__isnull=True, lead_professional=True)
            .first()
        )
        if current is None:
            involvement.lead_professional = True
            try:
                with transaction.atomic():
                    involvement.save(update_fields=["lead_professional"])
            except IntegrityError:  # another service became the lead a moment ago
                raise Conflict("Another service has just become the lead professional") from None
            _lead_changed(involvement)
            audited(actor, "lead", involvement)
            return None
        if actor.user is None:
            raise Conflict("A handover is agreed between people: use the web service")
        try:
            with transaction.atomic():
                handover = handovers.make(current, involvement, actor.user.pk)
                handover.save(force_insert=True)
        except IntegrityError:
            raise Conflict("A handover of the lead professional role is already waiting") from None
        alerts.raise_alert(
            alerts.people_of(current),
            Alert.Kind.HANDOVER,
            child=involvement.child,
            handover=handover,
        )
        audited(actor, "handover-proposed", involvement)
        return handover


@transaction.atomic
def decide_handover(actor: Actor, handover_id: uuid.UUID, agree: bool) -> Handover:
    """The current lead's service agrees (the role moves) or declines."""
    with transaction.atomic():
        found = (
            Handover.objects.select_for_update()
            .filter(pk=handover_id, status=Handover.Status.PROPOSED)
            .first()
        )
        if found is None:
            raise Invalid("That handover is no longer waiting")
        (handover,) = handovers.opened([found])
        old, new = handover.from_involvement, handover.to_involvement
        if old is None or new is None:  # removed since: an involvement's end withdraws it
            raise Invalid("That handover is no longer waiting")
        own_involvement(actor, old.pk)
        handover.decided_by = actor.user
        if not agree:
            handover.status = Handover.Status.DECLINED
            handover.save(update_fields=["status", "decided_by"])
            audited(actor, "handover-declined", old)
            return handover
        handover.status = Handover.Status.AGREED
        handover.save(update_fields=["status", "decided_by"])
        old.lead_professional = False
        old.save(update_fields=["lead_professional"])
        new.lead_professional = True
        new.save(update_fields=["lead_professional"])
        _lead_changed(new)
        audited(actor, "handover-agreed", old)
        return handover


def _lead_changed(lead: Involvement) -> None:
    open_ones = Involvement.objects.filter(child_id=lead.child_id, end_date__isnull=True)
    others = without_sensitive(open_ones.exclude(pk=lead.pk))
    alerts.raise_alert(
        alerts.people_involved(others),
        Alert.Kind.LEAD_CHANGED,
        child_id=lead.child_id,
        involvement=lead,
    )


def _sensitive(involvement: Involvement) -> bool:
    facts = facts_of([involvement])
    return involvement.pk in facts and facts[involvement.pk].sensitive


@transaction.atomic
def request_contact(actor: Actor, involvement_id: uuid.UUID) -> ContactRequest:
    """Ask a sensitive service to get in touch; it decides. Says nothing about the service."""
    if actor.user is None:
        raise Invalid("A request to be put in touch comes from a person: use the web service")
    involvement = (
        Involvement.objects.select_related("child")
        .filter(pk=involvement_id, end_date__isnull=True)
        .first()
    )
    if involvement is None or not _sensitive(involvement):
        raise Invalid("That service is no longer involved")
    require(actor, Permission.CHILD_RECORD_READ)
    _visible(actor, involvement.child)
    if view_for(actor.principal, involvement.child) is not View.FULL:
        raise Refused("Register your involvement with the child first")
    with transaction.atomic():
        try:
            with transaction.atomic():
                request = contact_requests.make(actor.user.pk, involvement.pk)
                request.save(force_insert=True)
        except IntegrityError:
            raise Invalid("You have already asked this service to get in touch") from None
        alerts.raise_alert(
            alerts.people_of(involvement),
            Alert.Kind.CONTACT_REQUEST,
            child=involvement.child,
            contact_request=request,
        )
        audited(actor, "contact-requested", involvement)
    return request


@transaction.atomic
def answer_contact(actor: Actor, request_id: uuid.UUID, contacted: bool) -> ContactRequest:
    """The sensitive service records what it decided."""
    request = ContactRequest.objects.filter(pk=request_id, status="open").first()
    if request is None:
        raise Invalid("That request is no longer waiting")
    with transaction.atomic():
        involvement = own_involvement(actor, contact_requests.involvement_of(request))
        request.status = (
            ContactRequest.Status.CONTACTED if contacted else ContactRequest.Status.DECLINED
        )
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_at"])
        audited(actor, "contact-answered", involvement, contacted=contacted)
    return request
