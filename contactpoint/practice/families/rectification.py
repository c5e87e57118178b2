"""Rectification: a request to correct one field of a child's record (docs/families.md).

The local index team records who asked (the young person, a parent or carer, a
practitioner), which field and the value it should hold; the value is sealed under the
child's data key. The index does not change the field itself: the source that supplied
the value shown now (its provenance) corrects its own record, and its next load corrects
the index. So the team sends the request to that source (a message it forwards through
its usual secure route, and an e-mail to the source organisation's address that holds a
reference number and nothing else), then records the source's answer: corrected or
refused. A request can be withdrawn while it is open.

recorded -> sent_to_source -> corrected | refused_by_source; recorded or sent -> withdrawn

Each step writes its audit event first, in the step's own transaction (ids and codes only:
never the value nor the note), so a step whose event cannot be written is not made.

Which field, source and organisation a request is about is one value, `about`, sealed under
the child's data key padded to ABOUT_SIZE bytes (ADR 0010): beside the child, a source or
organisation in clear (a youth offending team's system, a clinic) would say who holds a
record of the child. The queue opens the requests it shows with one key-store read
(`with_about`); a request whose child's key is gone shows "Not available".
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from contactpoint.access.models import User
from contactpoint.access.permissions import Permission, Principal, Target
from contactpoint.access.users import Actor, Invalid, Refused, require
from contactpoint.audit import log as audit_log
from contactpoint.practice.models import RectificationRequest
from contactpoint.practice.record import local_area, local_team
from contactpoint.registry import origins
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.models import (
    Child,
    CouncilArea,
    Involvement,
    Organisation,
    Source,
    SourceRecord,
)
from contactpoint.registry.record_facts import Kind

log = logging.getLogger(__name__)

MANAGE = Permission.AREA_RECTIFICATION_MANAGE
Field = RectificationRequest.Field
Status = RectificationRequest.Status
MAX_VALUE = 200
MAX_NOTE = 1000
# `["date_of_birth", <source id>, "2026-11-02", <organisation id>]`, ids of up to 12
# digits, is 60 bytes.
ABOUT_SIZE = 64
NOT_LOCAL = "only the local index team of the child's area handles its corrections"

# The kind of fact (a bit of SourceRecord.preferred) each golden-record field comes from.
FACTS: dict[str, Kind] = {
    Field.GIVEN_NAME: Kind.NAME,
    Field.FAMILY_NAME: Kind.NAME,
    Field.DATE_OF_BIRTH: Kind.BIRTH,
    Field.SEX: Kind.BIRTH,
    Field.ADDRESS: Kind.ADDRESS,
    Field.POSTCODE: Kind.ADDRESS,
    Field.NHS_NUMBER: Kind.NHS_NUMBER,
    Field.UPN: Kind.UPN,
}


def may_manage(principal: Principal, child_id: uuid.UUID) -> bool:
    """Whether the principal is in the local index team of one of the child's areas."""
    return local_team(principal, child_id, MANAGE)


def _local_area(actor: Actor, child: Child) -> CouncilArea:
    require(actor, MANAGE)
    if (code := local_area(actor.principal, child.pk, MANAGE)) is None:
        raise Refused(NOT_LOCAL)
    return CouncilArea.objects.get(code=code)


def _person(actor: Actor) -> User:
    if actor.user is None:
        raise Refused("corrections are handled by people of the local index team")
    return actor.user


def supplier(child: Child, field: str) -> SourceRecord | None:
    """The source record that supplied the value the golden record shows for the field."""
    kind = FACTS[field]
    records = SourceRecord.objects.filter(child=child).exclude(preferred=0).order_by("pk")
    return next((sr for sr in records if sr.preferred & kind), None)


@dataclass(frozen=True)
class About:
    """What a request is about: sealed in `about` under the child's key."""

    field: str
    source_id: int | None = None
    source_as_at: dt.date | None = None
    organisation_id: int | None = None


def seal_about(cipher: ChildCipher, request: RectificationRequest, about: About) -> None:
    """Set the request's sealed `about` and its opened attributes (the row is not saved)."""
    as_at = about.source_as_at.isoformat() if about.source_as_at else None
    text = json.dumps(
        [about.field, about.source_id, as_at, about.organisation_id], separators=(",", ":")
    )
    request.about = cipher.seal_fixed(RectificationRequest, "about", request.pk, text, ABOUT_SIZE)


def about_of(cipher: ChildCipher | None, request: RectificationRequest) -> About | None:
    """The request's `about`, opened (None when the child's key is gone)."""
    if cipher is None or request.about is None:
        return None
    field, source, as_at, organisation = json.loads(cipher.open_fixed(request, "about"))
    return About(field, source, dt.date.fromisoformat(as_at) if as_at else None, organisation)


def with_about(requests: Iterable[RectificationRequest]) -> list[RectificationRequest]:
    """The requests, each with its field, source, as-at date and organisation set from its
    sealed `about` (one key-store read for all their children, one query each for their
    sources and organisations)."""
    rows = list(requests)
    ciphers = ciphers_for({r.child_id for r in rows})
    opened = {r.pk: about_of(ciphers.get(r.child_id), r) for r in rows}
    known = [a for a in opened.values() if a is not None]
    sources = Source.objects.in_bulk({a.source_id for a in known if a.source_id})
    organisations = Organisation.objects.in_bulk(
        {a.organisation_id for a in known if a.organisation_id}
    )
    for request in rows:
        about = opened[request.pk]
        if about is None:
            continue
        request.field = about.field
        request.source = sources.get(about.source_id) if about.source_id else None
        request.source_as_at = about.source_as_at
        request.organisation = (
            organisations.get(about.organisation_id) if about.organisation_id else None
        )
    return rows


def _audit(actor: Actor, step: str, request: RectificationRequest, **more: Any) -> None:
    """The step's event: ids and codes only, never the value or the note."""
    details: dict[str, Any] = {
        "rectification": str(request.pk),
        "field": request.field,
        "source": request.source.code if request.source else None,
        **more,
    }
    event = audit_log.entry(
        actor.principal,
        f"families:rectification:{step}",
        child_id=request.child_id,
        details=details,
    )
    audit_log.append(event)


def _check(field: str, value: str, asked_by: str, note: str) -> None:
    if field not in Field.values:
        raise Invalid("select the field to correct")
    if not value:
        raise Invalid("enter what the field should say")
    if len(value) > MAX_VALUE:
        raise Invalid(f"keep the corrected value under {MAX_VALUE} characters")
    if asked_by not in RectificationRequest.AskedBy.values:
        raise Invalid("select who asked for the correction")
    if len(note) > MAX_NOTE:
        raise Invalid(f"keep the note under {MAX_NOTE:,} characters")


@transaction.atomic
def record(
    actor: Actor, child: Child, field: str, corrected_value: str, asked_by: str, note: str = ""
) -> RectificationRequest:
    """Record a request to correct one field of the child's record.

    Raises:
        Refused: not a person of the local index team of the child's area.
        Invalid: the record is closed, or the form is wrong.
        AuditUnavailable: nothing is recorded.
    """
    area = _local_area(actor, child)
    user = _person(actor)
    value, note = corrected_value.strip(), note.strip()
    _check(field, value, asked_by, note)
    cipher = ciphers_for({child.pk}).get(child.pk)
    if child.status != Child.Status.ACTIVE or cipher is None:
        raise Invalid("this record is closed")
    supplied = supplier(child, field)
    row_id = uuid.uuid4()
    request = RectificationRequest(
        id=row_id,
        child=child,
        area=area,
        corrected_value=cipher.seal(RectificationRequest, "corrected_value", row_id, value),
        asked_by=asked_by,
        note=cipher.seal(RectificationRequest, "note", row_id, note),
        recorded_by=user,
        recorded_at=timezone.now(),
    )
    request.field = field
    # Which source sent the record is sealed in it (registry/origins.py), under this key.
    request.source = (
        Source.objects.get(pk=origins.open_origin(cipher, supplied.pk, supplied.origin))
        if supplied
        else None
    )
    request.source_as_at = supplied.as_at if supplied else None
    request.organisation = _organisation_of(child, supplied)
    about = About(
        field,
        request.source.pk if request.source else None,
        request.source_as_at,
        request.organisation.pk if request.organisation else None,
    )
    seal_about(cipher, request, about)
    with transaction.atomic():
        _audit(actor, "record", request, asked_by=asked_by)
        request.save(force_insert=True)
    return request


def _organisation_of(child: Child, supplied: SourceRecord | None) -> Any:
    """The organisation that sent the record (a school's census return, a GP's
    demographics), known from the involvement the same record keeps current."""
    if supplied is None:
        return None
    kept = Involvement.objects.filter(child=child, source_record=supplied).first()
    return kept.organisation if kept else None


def _open(actor: Actor, request_id: uuid.UUID) -> RectificationRequest:
    """The request, locked, once the actor is of the child's local index team.

    Raises:
        Invalid: no such request.
        Refused: not of the child's local index team.
    """
    require(actor, MANAGE)
    request = (
        RectificationRequest.objects.select_for_update(of=("self",))
        .select_related("child", "area")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise Invalid("there is no such correction request")
    if not may_manage(actor.principal, request.child_id):
        raise Refused(NOT_LOCAL)
    return with_about([request])[0]


def _moving(request: RectificationRequest, *allowed: str) -> None:
    if request.status not in allowed:
        raise Invalid(f"this request is {request.get_status_display().lower()}")


def value_of(request: RectificationRequest) -> str:
    """The corrected value, opened ("" when the child's key is gone)."""
    return _opened(request, "corrected_value")


def note_of(request: RectificationRequest) -> str:
    return _opened(request, "note")


def _opened(request: RectificationRequest, column: str) -> str:
    cipher = ciphers_for({request.child_id}).get(request.child_id)
    if cipher is None:
        return ""
    return cipher.open_field(request, column) or ""


@dataclass(frozen=True)
class Message:
    """The request as the index team forwards it to the source."""

    reference: str
    to: str  # the source organisation (or the source system when no organisation is known)
    body: str


def message(request: RectificationRequest) -> Message:
    """The text to forward: the source, the child's contactpoint ID, the field and the value
    asked for; never any other field of the record."""
    source = request.source.name if request.source else "the source that supplied it"
    to = request.organisation.name if request.organisation else source
    field = request.get_field_display()
    as_at = f" (your record as at {request.source_as_at:%d %B %Y})" if request.source_as_at else ""
    body = "\n".join(
        (
            f"To: {to}",
            f"Reference: {request.reference}",
            "",
            f"A correction to a record you supplied to contactpoint through {source}{as_at}.",
            "",
            f"Child's contactpoint ID: {request.child.cpid}",
            f"Field: {field}",
            f"It should read: {value_of(request)}",
            f"Asked for by: {request.get_asked_by_display().lower()}",
            "",
            "Please correct your own record if it is wrong: your next return corrects the",
            "index. Tell the local index team whether you corrected it or why not, quoting",
            "the reference.",
        )
    )
    return Message(request.reference, to, body)


@transaction.atomic
def send(actor: Actor, request_id: uuid.UUID) -> tuple[RectificationRequest, Message]:
    """Mark the request sent to its source, and give the message the team forwards. The
    source organisation's address, when the index has one, is e-mailed a reference number
    and nothing else (after the commit)."""
    user = _person(actor)
    with transaction.atomic():
        request = _open(actor, request_id)
        _moving(request, Status.RECORDED)
        email = request.organisation.email if request.organisation else ""
        _audit(actor, "send", request, emailed=bool(email))
        request.status = Status.SENT_TO_SOURCE
        request.sent_by = user
        request.sent_at = timezone.now()
        request.emailed = bool(email)
        request.save(update_fields=["status", "sent_by", "sent_at", "emailed"])
        if email:
            reference = request.reference
            transaction.on_commit(lambda: _mail(email, reference))
        return request, message(request)


@transaction.atomic
def show(actor: Actor, request_id: uuid.UUID) -> tuple[RectificationRequest, Message]:
    """The message of a request already sent, again (it holds the value: audited)."""
    with transaction.atomic():
        request = _open(actor, request_id)
        _moving(request, Status.SENT_TO_SOURCE)
        _audit(actor, "show", request)
        return request, message(request)


def _mail(email: str, reference: str) -> None:
    subject = f"A correction request from contactpoint: {reference}"
    body = (
        "A local index team of contactpoint has asked your organisation to check a record "
        f"you supplied. Its reference is {reference}.\n\n"
        "The details come to you from the team through your usual secure route. Quote the "
        "reference when you answer.\n\n"
        "This e-mail holds no details on purpose. Do not reply to it."
    )
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
    except OSError:
        # The request is recorded as sent whatever happens to the mail: the team forwards it.
        log.warning("rectification e-mail could not be sent (%s)", reference)


@transaction.atomic
def answer(
    actor: Actor, request_id: uuid.UUID, corrected: bool, note: str = ""
) -> RectificationRequest:
    """Record the source's answer: it corrected its record, or it refused."""
    return _close(
        actor,
        request_id,
        Status.CORRECTED if corrected else Status.REFUSED_BY_SOURCE,
        "corrected" if corrected else "refused",
        note,
        Status.SENT_TO_SOURCE,
    )


@transaction.atomic
def withdraw(actor: Actor, request_id: uuid.UUID, note: str = "") -> RectificationRequest:
    """Whoever asked no longer wants the correction (or it was recorded by mistake)."""
    return _close(
        actor,
        request_id,
        Status.WITHDRAWN,
        "withdraw",
        note,
        Status.RECORDED,
        Status.SENT_TO_SOURCE,
    )


def _close(
    actor: Actor, request_id: uuid.UUID, status: str, step: str, note: str, *allowed: str
) -> RectificationRequest:
    user = _person(actor)
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise Invalid(f"keep the note under {MAX_NOTE:,} characters")
    with transaction.atomic():
        request = _open(actor, request_id)
        _moving(request, *allowed)
        _audit(actor, step, request)
        request.status = status
        request.closed_by = user
        request.closed_at = timezone.now()
        changed = ["status", "closed_by", "closed_at"]
        if note:
            cipher = ciphers_for({request.child_id}).get(request.child_id)
            if cipher is not None:
                earlier = note_of(request)
                joined = f"{earlier}\n{note}" if earlier else note
                request.note = cipher.seal(RectificationRequest, "note", request.pk, joined)
                changed.append("note")
        request.save(update_fields=changed)
    return request


def queue(actor: Actor) -> QuerySet[RectificationRequest]:
    """The open requests of the actor's area, oldest first (`with_about` opens what they
    are about)."""
    require(actor, MANAGE)
    area = actor.principal.area_code
    if area is None:
        return RectificationRequest.objects.none()
    require(actor, MANAGE, Target(area_code=area))
    return (
        RectificationRequest.objects.filter(
            area__code=area, status__in=(Status.RECORDED, Status.SENT_TO_SOURCE)
        )
        .select_related("child", "recorded_by", "sent_by")
        .order_by("recorded_at")
    )
