"""The relationship rule: a user may see a child's contacts when their organisation has an
active (not ended) involvement with the child, or while their own emergency access to the
child lasts.

`contacts_decision` asks the one decider (contactpoint.access.permissions) like every other
check; the record, registration and emergency access are built on it. The rule lives with
the record rather than in access because emergency access is a practice fact.
"""

from __future__ import annotations

import uuid

from django.utils import timezone

from contactpoint.access.permissions import Decision, Permission, Principal, Target, decide
from contactpoint.practice.emergency_refs import holder
from contactpoint.practice.models import EmergencyAccess
from contactpoint.registry.involvement_facts import member
from contactpoint.registry.models import Involvement


def involved(organisation_id: int, child_id: uuid.UUID) -> bool:
    """Whether the organisation has an open involvement with the child (found by the keyed
    digest of the two: the link itself is sealed)."""
    return Involvement.objects.filter(
        child_id=child_id, member=member(child_id, organisation_id), end_date__isnull=True
    ).exists()


def in_emergency(principal: Principal, child_id: uuid.UUID) -> bool:
    """Whether this user's emergency access to the child is still running (found by the
    keyed digest of the two: the row's child is sealed)."""
    if principal.kind != "user":
        return False
    return EmergencyAccess.objects.filter(
        holder=holder(child_id, principal.id), expires_at__gt=timezone.now()
    ).exists()


def contacts_decision(principal: Principal, child_id: uuid.UUID) -> Decision:
    """May the principal see the child's contacts? Asks the decider with the relationship."""
    relationship = involved(principal.organisation_id, child_id) or in_emergency(
        principal, child_id
    )
    return decide(principal, Permission.CHILD_CONTACTS_READ, Target(relationship=relationship))
