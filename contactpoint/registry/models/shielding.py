"""Shielding decided by two people: a request by one of the local index team, a decision
by another (docs/shielding.md).

A row is one request to shield or to unshield a child, and what became of it. An approved
shield request carries the date shielding is next reviewed; the child is shielded while
the latest approved decision for it is a shield (or a source's sensitive flag shielded it:
then no row may exist at all). The explanation is free text about the child, so it is
sealed under the child's data key and forgotten with it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from contactpoint.registry.fields import Sealed
from contactpoint.registry.models.children import Child


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
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=8, choices=Action.choices)
    reason = models.CharField(max_length=16, choices=Reason.choices)
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
                fields=["child"],
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
