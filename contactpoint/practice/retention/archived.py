"""The local index team's part in retention (docs/retention.md): recording an extension
to 25 before a child is archived, and a statutory access to a record archived more than a
year ago. Who may read an archived record, and when, is decided in `practice.record`
(`archived_purpose`); the archiving itself in `practice.retention`.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone

from contactpoint.access.permissions import Permission
from contactpoint.access.users import Actor, Invalid, Refused, require
from contactpoint.audit import log as audit_log
from contactpoint.lib.identifiers import InvalidIdentifier, validate_cpid
from contactpoint.practice.holders import STATUTORY as REFS
from contactpoint.practice.models import StatutoryAccess
from contactpoint.practice.record import OPEN, in_first_year, local_team
from contactpoint.registry import retention_facts
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.lookup import NotFound, Purged, child_by_cpid
from contactpoint.registry.models import Child

READ = Permission.AREA_ARCHIVED_CHILDREN_READ
MANAGE = Permission.AREA_RETENTION_MANAGE
MIN_EXPLANATION = 20  # characters: enough to say which enquiry or review, for the audit
EXTEND = "child:retention:extend"
STATUTORY = "child:statutory-access:open"
NOT_LOCAL = "only the local index team of the child's area records a retention extension"
NO_EXTENSION = "none"


def record_extension(actor: Actor, child: Child, extension: str) -> None:
    """Keep the child's record to 25 (a care leaver, or SEN with the young person's
    consent), or stop doing so (`NO_EXTENSION`); only while the record is active.

    Raises:
        Refused: not the local index team of one of the child's areas.
        Invalid: not a known extension, or the record is archived already.
    """
    require(actor, MANAGE)
    if not local_team(actor.principal, child.pk, MANAGE):
        raise Refused(NOT_LOCAL)
    value = "" if extension == NO_EXTENSION else extension
    if value and value not in Child.Extension.values:
        raise Invalid("Select why the record is kept to 25")
    cipher = ciphers_for({child.pk}).get(child.pk)
    with transaction.atomic():
        current = Child.objects.select_for_update().filter(pk=child.pk).first()
        if current is None or current.status != Child.Status.ACTIVE or cipher is None:
            raise Invalid("The record is archived already: an extension comes before archiving")
        details = {"extension": value or NO_EXTENSION, "before": current.retention_extension}
        event = audit_log.entry(actor.principal, EXTEND, child_id=child.pk, details=details)
        audit_log.append(event)
        retention_facts.record_extension(cipher, value)


def archived_child(actor: Actor, cpid: str) -> Child:
    """The archived child with this contactpoint ID, if the actor is its local index team.

    Raises:
        Purged: the record was purged (the actor is its local index team).
        NotFound: anything else, audited as a refused opening.
    """
    principal = actor.principal
    try:
        child = child_by_cpid(validate_cpid(cpid), archived=True)
    except (InvalidIdentifier, NotFound):
        child = None
    team = child is not None and local_team(principal, child.pk, READ)
    if child is not None and team and child.status == Child.Status.ARCHIVED:
        return child
    event = audit_log.entry(
        principal,
        OPEN,
        audit_log.REFUSED,
        child_id=child.pk if child is not None else None,
        details={"reason": "no archived record of this user's area has this ID"},
    )
    audit_log.append(event)
    raise Purged if team and child and child.status == Child.Status.PURGED else NotFound


def running(actor: Actor, child: Child) -> StatutoryAccess | None:
    """The actor's statutory access to the child that runs now, if any."""
    return (
        StatutoryAccess.objects.filter(
            holder=REFS.holder(child.pk, actor.principal.id), expires_at__gt=timezone.now()
        )
        .order_by("-expires_at")
        .first()
    )


REASON_SIZE = 24  # `child_protection_enquiry`, the longest code, is 24 bytes


@transaction.atomic
def open_statutory(actor: Actor, child: Child, reason: str, explanation: str) -> StatutoryAccess:
    """Record why the local index team reads a record archived more than a year ago; it
    may then read it until the end of the day. The caller confirmed the second factor.

    Raises:
        NotFound: not archived, or not the actor's area's.
        Refused: not a person.
        Invalid: within the first year (no reason needed), no such reason, too short or
            too long an explanation.
    """
    require(actor, READ)
    user = actor.user
    if user is None:
        raise Refused("a statutory access is for a person, with their second factor")
    if child.status != Child.Status.ARCHIVED or not local_team(actor.principal, child.pk, READ):
        raise NotFound
    if in_first_year(child):
        raise Invalid("In the year after archiving, your team reads the record without a reason")
    if reason not in StatutoryAccess.Reason.values:
        raise Invalid("Select the statutory reason")
    explanation = explanation.strip()
    if len(explanation) < MIN_EXPLANATION:
        raise Invalid(f"Explain which enquiry or review, in at least {MIN_EXPLANATION} characters")
    if len(explanation) > 2000:
        raise Invalid("Keep the explanation under 2,000 characters")
    cipher = ciphers_for({child.pk}).get(child.pk)
    if cipher is None:  # the key is gone: nothing could be read
        raise NotFound
    now, row_id = timezone.now(), uuid.uuid4()
    with transaction.atomic():
        event = audit_log.entry(
            actor.principal,
            STATUTORY,
            sealed_purpose=reason,
            child_id=child.pk,
            details={"statutory_access": str(row_id)},
        )
        audit_log.append(event)
        access = StatutoryAccess(
            id=row_id,
            user=user,
            organisation_id=user.organisation_id,
            reason=cipher.seal_fixed(StatutoryAccess, "reason", row_id, reason, REASON_SIZE),
            explanation=cipher.seal(StatutoryAccess, "explanation", row_id, explanation),
            granted_at=now,
            expires_at=end_of_day(now),
        )
        REFS.name_child(access, child, user.pk)
        access.save(force_insert=True)
        return access


def end_of_day(now: dt.datetime) -> dt.datetime:
    """Midnight at the end of `now`'s local day: a statutory access lasts for the day."""
    tomorrow = timezone.localtime(now).date() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(tomorrow, dt.time.min))
