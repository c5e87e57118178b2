"""Emergency access: a user with no involvement sees a child's contacts for a short time.

They give a reason code and an explanation (both sealed under the child's data key: the
code padded to a fixed length, since `missing` is a fact about the child), prove their
second factor again (the page is behind step-up), and the view lasts
CONTACTPOINT_EMERGENCY_ACCESS_SECONDS (30 minutes). Their organisation's privacy officers
are alerted at once, and each use waits for a privacy officer's review. A shielded child
is never opened this way: only its local index team sees it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from contactpoint.access.permissions import Permission, Target
from contactpoint.access.users import Actor, Invalid, Refused, privacy_officers_of, require
from contactpoint.audit import log as audit_log
from contactpoint.practice import emergency_refs
from contactpoint.practice.involvements import SHIELDED, alerts
from contactpoint.practice.models import Alert, EmergencyAccess
from contactpoint.practice.record import View, may_open, view_for
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.lookup import NotFound
from contactpoint.registry.models import Child

REASON_SIZE = 16  # `immediate_risk`, the longest code, is 14 bytes
MIN_EXPLANATION = 20  # characters: enough to say what is happening, for the review


@transaction.atomic
def open_access(actor: Actor, child: Child, reason: str, explanation: str) -> EmergencyAccess:
    """Start emergency access; the caller has had the second factor confirmed just now.

    Raises:
        NotFound: the actor has not found the child by a search (no opening by ID).
        Refused: not a user, not allowed, or the child is shielded from them.
        Invalid: no reason code, or too short an explanation.
    """
    require(actor, Permission.CHILD_EMERGENCY_ACCESS)
    user = actor.user
    if user is None:
        raise Refused("Emergency access is for a person, with their second factor")
    if not may_open(actor.principal, child):
        raise NotFound
    if view_for(actor.principal, child) is View.WITHHELD:
        raise Refused(SHIELDED)
    if reason not in EmergencyAccess.Reason.values:
        raise Invalid("Select why you need emergency access")
    explanation = explanation.strip()
    if len(explanation) < MIN_EXPLANATION:
        raise Invalid(f"Explain what is happening, in at least {MIN_EXPLANATION} characters")
    if len(explanation) > 2000:
        raise Invalid("Keep the explanation under 2,000 characters")
    now = timezone.now()
    row_id = uuid.uuid4()
    cipher = ciphers_for({child.pk})[child.pk]
    with transaction.atomic():
        access = EmergencyAccess(
            id=row_id,
            user=user,
            organisation_id=user.organisation_id,
            reason=cipher.seal_fixed(EmergencyAccess, "reason", row_id, reason, REASON_SIZE),
            explanation=cipher.seal(EmergencyAccess, "explanation", row_id, explanation),
            granted_at=now,
            expires_at=now + dt.timedelta(seconds=settings.CONTACTPOINT_EMERGENCY_ACCESS_SECONDS),
        )
        emergency_refs.name_child(access, child)
        access.save(force_insert=True)
        alerts.raise_alert(
            privacy_officers_of(user.organisation_id),
            Alert.Kind.EMERGENCY_ACCESS,
            child=child,
            emergency=access,
        )
        event = audit_log.entry(
            actor.principal,
            "child:emergency-access:open",
            sealed_purpose=reason,
            child_id=child.pk,
            details={"emergency_access": str(row_id)},
        )
        audit_log.append(event)
    return access


def reasons_of(accesses: Iterable[EmergencyAccess]) -> dict[uuid.UUID, str]:
    """Each access's reason code, opened (one key-store read for all their children;
    absent when the child's data key is gone)."""
    rows = {a.pk: (a, emergency_refs.child_id_of(a)) for a in accesses}
    ciphers = ciphers_for({child for _, child in rows.values()})
    return {
        pk: ciphers[child].open_fixed(a, "reason")
        for pk, (a, child) in rows.items()
        if child in ciphers
    }


def explanations_of(accesses: Iterable[EmergencyAccess]) -> dict[uuid.UUID, str]:
    """Each access's explanation, opened for its reviewer (one key-store read for all their
    children; "" when the child's key is gone)."""
    rows = {a.pk: (a, emergency_refs.child_id_of(a)) for a in accesses}
    ciphers = ciphers_for({child for _, child in rows.values()})
    return {
        pk: (ciphers[child].open_field(a, "explanation") or "") if child in ciphers else ""
        for pk, (a, child) in rows.items()
    }


def to_review(actor: Actor) -> QuerySet[EmergencyAccess]:
    """The emergency accesses of the actor's organisation waiting for review, oldest first."""
    require(actor, Permission.ORGANISATION_EMERGENCY_ACCESS_REVIEW)
    return (
        EmergencyAccess.objects.filter(
            organisation_id=actor.principal.organisation_id, reviewed_at__isnull=True
        )
        .select_related("user")
        .order_by("granted_at")
    )


def reviewed(actor: Actor, last: int = 50) -> QuerySet[EmergencyAccess]:
    """The actor's organisation's emergency accesses already reviewed, the latest review
    first (at most `last`): the history a privacy officer looks back on."""
    require(actor, Permission.ORGANISATION_EMERGENCY_ACCESS_REVIEW)
    return (
        EmergencyAccess.objects.filter(
            organisation_id=actor.principal.organisation_id, reviewed_at__isnull=False
        )
        .select_related("user", "reviewed_by")
        .order_by("-reviewed_at")[:last]
    )


@transaction.atomic
def review(actor: Actor, access_id: uuid.UUID, outcome: str) -> EmergencyAccess:
    """Record a privacy officer's review of one emergency access of their organisation."""
    access = EmergencyAccess.objects.filter(pk=access_id).first()
    target = Target(organisation_id=access.organisation_id if access else -1)
    require(actor, Permission.ORGANISATION_EMERGENCY_ACCESS_REVIEW, target)
    if access is None:
        raise Invalid("No such emergency access")
    if access.reviewed_at is not None:
        raise Invalid("This emergency access has been reviewed already")
    if outcome not in EmergencyAccess.Outcome.values:
        raise Invalid("Select the outcome of your review")
    if actor.user is None or access.user_id == actor.user.pk:
        raise Refused("Someone else must review your own emergency access")
    access.outcome = outcome
    access.reviewed_by = actor.user
    access.reviewed_at = timezone.now()
    with transaction.atomic():
        access.save(update_fields=["outcome", "reviewed_by", "reviewed_at"])
        event = audit_log.entry(
            actor.principal,
            "organisation:emergency-access:review",
            child_id=emergency_refs.child_id_of(access),
            details={"emergency_access": str(access.pk), "outcome": outcome},
        )
        audit_log.append(event)
    return access
