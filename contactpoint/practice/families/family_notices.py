"""Family notices: a family is told when a new service starts working with their child
(docs/families.md).

Registering an involvement makes a notice due to the local index team of the joining
organisation's area, unless the practitioner records that telling the family would put
the child at risk (a reason code, never words): then the notice is recorded as not sent
for that reason, and no one is asked to send it. A sensitive service's registration makes
no notice: telling the family would show the service, which its consent basis forbids.

The team generates the letter (a printable page, and plain text for an e-mail): the
organisation that joined, its role and how to reach it, and the child's name and address
as held; other services only when the team chooses, never a sensitive one. A shielded
child's letter is never generated: the team reviews it and sends its own, or not. The
team then records how it was sent (post, e-mail, in person), or why it was not.

Each step writes its audit event first, in the step's own transaction (ids and codes only).

What became of a notice is sealed under the child's data key (ADR 0010): `outcome` holds
its status, the practitioner's risk code, the team's reason for not sending it, how it was
sent, by whom and when, as JSON padded to OUTCOME_SIZE bytes, written for every notice
from its creation. Only `due` is in clear, for the team's queue: a notice recorded at
registration as a risk looks like one the team closed.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from contactpoint.access.models import User
from contactpoint.access.permissions import Permission, Principal, Target, decide
from contactpoint.access.users import Actor, Invalid, Refused, require
from contactpoint.audit import log as audit_log
from contactpoint.practice.models import FamilyNotice
from contactpoint.practice.record import child_areas
from contactpoint.registry import golden
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.involvement_facts import facts_one, with_links, without_sensitive
from contactpoint.registry.models import Child, CouncilArea, Involvement, Organisation

MANAGE = Permission.AREA_FAMILY_NOTICES_MANAGE
Status = FamilyNotice.Status
Risk = FamilyNotice.Risk
NOT_LOCAL = "only the local index team of the child's area sends its family notices"
NEEDS_REVIEW = (
    "this child is shielded: no letter is generated, because it could show where the "
    "child is or who works with them. Review what the family may be told, and record "
    "whether you sent a notice of your own"
)


OUTCOME_SIZE = 160  # the longest codes, a user id and a time as JSON are 140 bytes


@dataclass(frozen=True)
class Outcome:
    """What became of a notice, opened."""

    status: str = Status.DUE
    risk: str = ""  # the practitioner's reason at registration (Risk)
    not_sent_reason: str = ""  # the team's (FamilyNotice.NotSent)
    how: str = ""  # FamilyNotice.How
    by_id: uuid.UUID | None = None  # who recorded the risk, or sent or closed it
    at: dt.datetime | None = None

    @property
    def words(self) -> str:
        return str(Status(self.status).label)


def seal_outcome(notice: FamilyNotice, outcome: Outcome) -> None:
    """Seal the outcome under the notice's child's key, and set `due` from it; the row is
    not saved.

    Raises:
        KeyError: the child's data key is gone.
    """
    cipher = ciphers_for({notice.child_id})[notice.child_id]
    document = [
        outcome.status,
        outcome.risk,
        outcome.not_sent_reason,
        outcome.how,
        str(outcome.by_id) if outcome.by_id else None,
        outcome.at.isoformat() if outcome.at else None,
    ]
    text = json.dumps(document, separators=(",", ":"))
    notice.outcome = cipher.seal_fixed(FamilyNotice, "outcome", notice.pk, text, OUTCOME_SIZE)
    notice.due = outcome.status == Status.DUE


def outcome_of(notice: FamilyNotice) -> Outcome | None:
    """What became of the notice (None when the child's data key is gone)."""
    cipher = ciphers_for({notice.child_id}).get(notice.child_id)
    if cipher is None:
        return None
    status, risk, reason, how, by, at = json.loads(cipher.open_fixed(notice, "outcome"))
    return Outcome(
        status,
        risk,
        reason,
        how,
        uuid.UUID(by) if by else None,
        dt.datetime.fromisoformat(at) if at else None,
    )


def check_risk(risk: str | None) -> None:
    """The practitioner's reason for not telling the family, when they give one.

    Raises:
        Invalid: not one of the reason codes.
    """
    if risk is not None and risk not in Risk.values:
        raise Invalid("Select why telling the family would put the child at risk")


def _audit(actor: Actor, step: str, notice: FamilyNotice, **more: Any) -> None:
    event = audit_log.entry(
        actor.principal,
        f"families:notice:{step}",
        child_id=notice.child_id,
        details={"notice": str(notice.pk), "involvement": str(notice.involvement_id), **more},
    )
    audit_log.append(event)


def _area_for(child: Child, joined: Involvement) -> CouncilArea | None:
    """The joining organisation's area; otherwise the first of the child's areas."""
    organisation: Organisation = joined.organisation
    if organisation.council_area_id is not None:
        return CouncilArea.objects.get(pk=organisation.council_area_id)
    areas = sorted(child_areas(child.pk))
    return CouncilArea.objects.get(code=areas[0]) if areas else None


def on_registered(
    actor: Actor, child: Child, joined: Involvement, risk: str | None
) -> FamilyNotice | None:
    """Inside the registration's transaction: a notice is due, or recorded as not to be
    sent for the practitioner's reason. None for a sensitive service (and for a child with
    no local index team, which cannot happen while a school or GP is on the record)."""
    check_risk(risk)
    if facts_one(joined).sensitive:
        return None
    area = _area_for(child, joined)
    if area is None:
        return None
    now = timezone.now()
    notice = FamilyNotice(involvement=joined, child=child, area=area, created_at=now)
    if risk:
        by = actor.user.pk if actor.user is not None else None
        seal_outcome(notice, Outcome(Status.NOT_SENT_RISK, risk=risk, by_id=by, at=now))
    else:
        seal_outcome(notice, Outcome())
    # One action whatever was decided: the decision, and its reason, are sealed.
    _audit(actor, "record", notice, decision="risk" if risk else "due", risk=risk)
    notice.save(force_insert=True)
    return notice


def may_manage(principal: Principal, notice: FamilyNotice) -> bool:
    """The local index team of the notice's area, or of any of the child's areas."""
    if not decide(principal, MANAGE):
        return False
    areas = {notice.area.code, *child_areas(notice.child_id)}
    return any(decide(principal, MANAGE, Target(area_code=a)) for a in areas)


def _notice(actor: Actor, notice_id: uuid.UUID, lock: bool = False) -> FamilyNotice:
    """The notice, once the actor is of its local index team.

    Raises:
        Invalid: no such notice.
        Refused: not of the local index team.
    """
    require(actor, MANAGE)
    rows = (
        FamilyNotice.objects.select_for_update(of=("self",)) if lock else FamilyNotice.objects.all()
    )
    notice = rows.select_related("child", "area", "involvement").filter(pk=notice_id).first()
    if notice is None:
        raise Invalid("there is no such family notice")
    if not may_manage(actor.principal, notice):
        raise Refused(NOT_LOCAL)
    return notice


def find(actor: Actor, notice_id: uuid.UUID) -> FamilyNotice:
    return _notice(actor, notice_id)


def due(actor: Actor) -> QuerySet[FamilyNotice]:
    """The notices of the actor's area waiting to be sent, oldest first."""
    require(actor, MANAGE)
    area = actor.principal.area_code
    if area is None:
        return FamilyNotice.objects.none()
    require(actor, MANAGE, Target(area_code=area))
    return (
        FamilyNotice.objects.filter(area__code=area, due=True)
        .select_related("child", "involvement")
        .order_by("created_at")
    )


@dataclass(frozen=True)
class Service:
    organisation: str
    role: str
    address: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Letter:
    reference: str
    child_name: str
    address: str
    joined: Service
    others: tuple[Service, ...] = ()


def _service(involvement: Involvement, contact: bool) -> Service:
    org: Organisation = involvement.organisation
    role = facts_one(involvement).role_label
    if not contact:
        return Service(org.name, role)
    phone, email = org.phone, org.email
    person = involvement.practitioner
    if not phone and not email and person is not None:  # reach the service through its worker
        phone, email = person.phone, person.email
    place = ", ".join(p for p in (org.address_line1, org.town, org.postcode) if p)
    return Service(org.name, role, place, phone, email)


def letter(actor: Actor, notice_id: uuid.UUID, with_services: bool = False) -> Letter | None:
    """The letter of a notice, audited before it is returned; None for a shielded child
    (NEEDS_REVIEW: the team writes its own, if any).

    Raises:
        Invalid: no such notice, or the child's data key is gone.
        Refused: not of the local index team.
    """
    with transaction.atomic():
        notice = _notice(actor, notice_id, lock=True)
        if notice.child.shielded:
            return None
        gold = golden.golden_record(notice.child_id)
        if gold is None:
            raise Invalid("this record is closed")
        _audit(actor, "generate", notice, with_services=with_services)
        if notice.generated_at is None:
            notice.generated_at = timezone.now()
            notice.save(update_fields=["generated_at"])
    names = [f.value for f in (gold.given_name, gold.family_name) if f]
    place = [f.value for f in (gold.address_line1, gold.postcode) if f]
    others: tuple[Service, ...] = ()
    if with_services:
        rest = with_links(
            without_sensitive(
                Involvement.objects.filter(child_id=notice.child_id, end_date__isnull=True).exclude(
                    pk=notice.involvement_id
                )
            )
        )
        rest.sort(key=lambda i: i.organisation.name)
        others = tuple(_service(i, contact=False) for i in rest)
    return Letter(
        reference="CPN-" + notice.id.hex[:10].upper(),
        child_name=" ".join(names) or "your child",
        address=", ".join(place),
        joined=_service(notice.involvement, contact=True),
        others=others,
    )


def letter_text(letter: Letter) -> str:
    """The letter as plain text, for an e-mail or a message."""
    joined = letter.joined
    lines = [
        f"To the parents or carers of {letter.child_name}",
        *([letter.address] if letter.address else []),
        "",
        f"{joined.organisation} has started working with {letter.child_name}, as "
        f"{joined.role.lower()}.",
        "",
        "How to contact them:",
        *(f"  {label}: {value}" for label, value in _contact(joined) if value),
    ]
    if letter.others:
        lines += ["", "Other services working with your child:"]
        lines += [f"  {s.organisation} ({s.role.lower()})" for s in letter.others]
    lines += [
        "",
        "contactpoint lists the services that work with a child, so they can reach one "
        "another. You can ask the local index team what is held about your child, and "
        "for a mistake to be corrected.",
        "",
        f"Reference: {letter.reference}",
    ]
    return "\n".join(lines)


def _contact(service: Service) -> tuple[tuple[str, str], ...]:
    return (("Address", service.address), ("Phone", service.phone), ("E-mail", service.email))


def _person(actor: Actor) -> User:
    if actor.user is None:
        raise Refused("family notices are sent by people of the local index team")
    return actor.user


@transaction.atomic
def mark_sent(actor: Actor, notice_id: uuid.UUID, how: str) -> FamilyNotice:
    """Record that the team sent the notice, and how."""
    user = _person(actor)
    if how not in FamilyNotice.How.values:
        raise Invalid("Select how you sent the notice")
    with transaction.atomic():
        notice = _due(actor, notice_id)
        _audit(actor, "sent", notice, how=how)
        seal_outcome(notice, Outcome(Status.SENT, how=how, by_id=user.pk, at=timezone.now()))
        notice.save(update_fields=["due", "outcome"])
    return notice


@transaction.atomic
def mark_not_sent(actor: Actor, notice_id: uuid.UUID, reason: str) -> FamilyNotice:
    """Record why the team did not send a notice that was due."""
    user = _person(actor)
    if reason not in FamilyNotice.NotSent.values:
        raise Invalid("Select why the notice is not sent")
    with transaction.atomic():
        notice = _due(actor, notice_id)
        _audit(actor, "not-sent", notice, reason=reason)
        risky = reason == FamilyNotice.NotSent.RISK
        status = Status.NOT_SENT_RISK if risky else Status.NOT_SENT
        closed = Outcome(status, not_sent_reason=reason, by_id=user.pk, at=timezone.now())
        seal_outcome(notice, closed)
        notice.save(update_fields=["due", "outcome"])
    return notice


def _due(actor: Actor, notice_id: uuid.UUID) -> FamilyNotice:
    notice = _notice(actor, notice_id, lock=True)
    if not notice.due:
        closed = outcome_of(notice)
        words = closed.words.lower() if closed is not None else "closed"
        raise Invalid(f"this notice is no longer due: {words}")
    return notice
