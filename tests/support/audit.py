"""The audit log in tests: broken on purpose, and its sealed details opened."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

from contactpoint.audit import log
from contactpoint.audit.models import Event
from contactpoint.lib import crypto


@contextmanager
def audit_store_broken() -> Iterator[None]:
    """The audit table gone, as a full disk or a revoked grant would leave it unwritable."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_event RENAME TO audit_event_away")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_event_away RENAME TO audit_event")


def opened(event: Event) -> dict[str, Any]:
    """The event's sealed details, opened as `verify` opens them."""
    assert event.sealed is not None
    key = log.period_key(event.period)
    body = crypto.open_sealed(key, bytes(event.sealed), log.sealed_context(event.index))
    details: dict[str, Any] = json.loads(body)["details"]
    return details
