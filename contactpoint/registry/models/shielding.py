"""Shielding decided by two people: a request by one of the local index team, a decision
by another (docs/shielding.md).

A row is one request to shield or to unshield a child, and what became of it. An approved
shield request carries the date shielding is next reviewed; the child is shielded while
the latest approved decision for it is a shield (or a source's sensitive flag shielded it:
then no row may exist at all). The explanation is free text about the child, so it is
sealed under the child's data key and forgotten with it.

A stolen database must not say which children are shielded, nor why (ADR 0010): a
decision names its child only by `child_tag`, a keyed digest of the child's id (to find a
child's decisions), and `child_ref`, the child's id sealed under a key derived from the
index key (to list an area's requests); the reason is sealed under the child's key at a
fixed length. A shielded child is a `ShieldTag` row, a keyed digest of the child's id
under another derived key, looked up for the children a query already holds.
"""

from __future__ import annotations

import uuid
from functools import cached_property

from django.conf import settings
from django.db import models

from contactpoint.registry.fields import Sealed
from contactpoint.registry.models.children import Child


class ShieldTag(models.Model):
    """A shielded child: HMAC of its id under the `child-shielded/v1` key, nothing else."""

    tag = models.BinaryField(max_length=16, unique=True)

    def __str__(self) -> str:
        return f"shield tag {self.pk}"


class ShieldingDecision(models.Model):
    class Action(models.TextChoices):
        SHIELD = "shield", "Shield the child"
        UNSHIELD = "unshield", "Stop shielding the child"

    class Reason(models.TextChoices):
        DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse or fleeing violence"
        PROTECTION = "protection", "Witness or victim protection"
        ADOPTION = "adoption", "Risk to an adoption placement"
        RISK_ENDED = "risk_ended", "The risk has ended"
        MISTAKE = "mistake", "Shielded by mistake"
        OTHER = "other", "Another reason (explained)"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Waiting for a second person"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn by the requester"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The child, by keyed digest and sealed id only (registry/shield_tags.py).
    child_tag = models.BinaryField(max_length=16, db_index=True)
    child_ref = Sealed()
    action = models.CharField(max_length=8, choices=Action.choices)
    reason = Sealed()  # under the child's key, padded: a reason code says why it is at risk
    explanation = Sealed()  # under the child's key: it says why the child is at risk
    # The council area whose index team decides: one of the child's areas, the requester's.
    area_code = models.CharField(max_length=9)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.REQUESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True)
    # Shield only: when shielding is next reviewed (12 months by default, at most 24).
    review_on = models.DateField(null=True)
    reminded_at = models.DateTimeField(null=True)  # the review reminder for review_on went out
    # The last time someone reviewed the shielding and kept it (setting a new review_on).
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["child_tag"],
                condition=models.Q(status="requested"),
                name="one_open_shielding_request",
            ),
            models.CheckConstraint(
                condition=~models.Q(action="shield", review_on__isnull=True),
                name="shielding_has_a_review_date",
            ),
        ]
        indexes = [models.Index(fields=["status", "review_on"], name="shielding_review")]

    def __str__(self) -> str:
        return f"shielding decision {self.pk}"

    @cached_property
    def child(self) -> Child:
        """The decision's child, its sealed id opened (registry/shield_tags.py)."""
        from contactpoint.registry import shield_tags  # it imports these models

        return shield_tags.decision_child(self)

    @property
    def child_id(self) -> uuid.UUID:
        return self.child.pk

    @cached_property
    def reason_code(self) -> str:
        """The reason, opened under the child's key ("" when the key is gone)."""
        from contactpoint.registry import shield_reasons  # it imports these models

        return shield_reasons.decision_reason(self)
