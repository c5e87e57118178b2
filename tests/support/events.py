"""Reading what the audit log sealed, for tests that check what an event recorded."""

from __future__ import annotations

import json
import uuid

from django.db.models import QuerySet

from contactpoint.audit import log as audit_log
from contactpoint.audit.models import Event
from contactpoint.lib import crypto


def details_of(event: Event) -> dict[str, object]:
    """An audit event's sealed details, opened as `contactpoint audit verify` opens them."""
    key = audit_log.period_key(event.period)
    assert event.sealed is not None
    body = crypto.open_sealed(key, bytes(event.sealed), audit_log.sealed_context(event.index))
    opened: dict[str, object] = json.loads(body)["details"]
    return opened


def about(child_id: uuid.UUID) -> QuerySet[Event]:
    """The events about a child, found as the service finds them: by the child's tag."""
    return Event.objects.filter(child_tag=audit_log.child_tag(child_id))
