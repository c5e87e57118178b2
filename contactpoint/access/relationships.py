"""The relationship rule: a user may see a child's contacts when their organisation has an
active (not ended) involvement with the child.

Everything else (registering an involvement, emergency access) is the practitioner issue's;
it builds on `contacts_decision`, which asks the one decider like every other check.
"""

from __future__ import annotations

import uuid

from contactpoint.access.permissions import Decision, Permission, Principal, Target, decide
from contactpoint.registry.models import Involvement


def involved(organisation_id: int, child_id: uuid.UUID) -> bool:
    """Whether the organisation has an open involvement with the child."""
    return Involvement.objects.filter(
        child_id=child_id, organisation_id=organisation_id, end_date__isnull=True
    ).exists()


def contacts_decision(principal: Principal, child_id: uuid.UUID) -> Decision:
    """May the principal see the child's contacts? Asks the decider with the relationship."""
    relationship = involved(principal.organisation_id, child_id)
    return decide(principal, Permission.CHILD_CONTACTS_READ, Target(relationship=relationship))
