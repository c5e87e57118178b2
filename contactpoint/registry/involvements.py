"""Involvements that feeds keep current (school and GP); practitioners' own come later."""

from __future__ import annotations

import uuid

from contactpoint.ingest.feeds import FeedRecord
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.models import Involvement, Organisation, SourceRecord


def organisation_ids(codes: set[str]) -> dict[str, int]:
    rows = Organisation.objects.filter(code__in=list(codes)).values_list("code", "id")
    return dict(rows)


def from_feed(cipher: ChildCipher, sr: SourceRecord, record: FeedRecord) -> None:
    """Open or confirm the involvement a feed record states; end the one it replaced."""
    child_id = cipher.owner_id
    previous = Involvement.objects.filter(source_record=sr, end_date__isnull=True)
    if not record.org_code:
        previous.update(end_date=record.as_at)
        return
    org_id = organisation_ids({record.org_code})[record.org_code]
    previous.exclude(organisation_id=org_id).update(end_date=record.as_at)
    current = Involvement.objects.filter(
        child_id=child_id, organisation_id=org_id, role=record.org_role, end_date__isnull=True
    ).first()
    if current is None:
        row_id = uuid.uuid4()
        start = record.involvement_start.isoformat() if record.involvement_start else None
        Involvement.objects.create(
            id=row_id,
            child_id=child_id,
            organisation_id=org_id,
            role=record.org_role,
            start_date=cipher.seal(Involvement, "start_date", row_id, start),
            last_confirmed=record.as_at,
            source_record=sr,
        )
    elif current.last_confirmed < record.as_at or current.source_record_id is None:
        current.last_confirmed = max(current.last_confirmed, record.as_at)
        current.source_record = current.source_record or sr
        current.save(update_fields=["last_confirmed", "source_record"])
