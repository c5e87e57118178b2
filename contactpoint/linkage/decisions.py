"""Record linkage decisions and the review queue they open or close."""

from __future__ import annotations

import uuid

from django.utils import timezone

from contactpoint.linkage.models import LinkDecision, ReviewItem
from contactpoint.linkage.realtime import Match
from contactpoint.linkage.review_items import ReviewCandidate, new_item
from contactpoint.linkage.store import ActiveModel

_ACTIONS = {
    "model": LinkDecision.Action.AUTO_LINK,
    "new_child": LinkDecision.Action.NEW_CHILD,
}

Entry = tuple[uuid.UUID, uuid.UUID | None, str, Match]


def waiting_reason(method: str, match: Match) -> str:
    """Why a record the model did not place waits, truthfully.

    The matcher's own reason when it sent the record to review or held it (each such
    reason comes with the candidates that caused it). Otherwise the matcher would have
    made a new child: a record the loader then held because it is near a shielded child
    waits as `shielded`, and one that could not found a child (no identifier, and no
    real given name, family name and date of birth) as `insufficient`; never as
    `review_band`, which names candidates it does not have.
    """
    if match.action in ("review", "hold") and match.reason:
        return match.reason
    if method == "near_shielded":
        return ReviewItem.Reason.SHIELDED
    return ReviewItem.Reason.INSUFFICIENT


def record_automatic(entries: list[Entry], model: ActiveModel) -> None:
    """Record what the model decided for each record, and queue those a person must see.

    Args:
        entries: (source record id, child id or None, method, the model's match).
        model: the model that decided.
    """
    now = timezone.now()
    ReviewItem.objects.filter(
        source_record_id__in=[e[0] for e in entries], status=ReviewItem.Status.OPEN
    ).update(status=ReviewItem.Status.DECIDED, decided_at=now)
    LinkDecision.objects.bulk_create(
        [
            LinkDecision(
                action=_ACTIONS.get(method, LinkDecision.Action.HOLD),
                source_record_id=sr,
                child_id=child,
                model=model.record,
                # A hold's weight stays out of clear: one above the upper threshold would
                # say the record waits because it may be a shielded child. Its candidates'
                # weights are in the sealed review item.
                weight=None if child is None else match.weight,
                decided_by=LinkDecision.AUTOMATIC,
            )
            for sr, child, method, match in entries
        ],
        batch_size=500,
    )
    waiting = [(sr, method, match) for sr, child, method, match in entries if child is None]
    items = [
        new_item(
            sr,
            waiting_reason(method, match),
            [ReviewCandidate.for_score(c.child_id, c.score) for c in match.candidates],
            model.record.pk,
        )
        for sr, method, match in waiting
    ]
    ReviewItem.objects.bulk_create(items, batch_size=500)
