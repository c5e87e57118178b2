"""What the practitioner journey records besides involvements themselves (registry).

No alert or handover names a child, an involvement or a request in clear (ADR 0010): a row
pairing a user (so an organisation) with a child would say that organisation works with
the child, and which reference is set would say what befell it. An alert holds its kind,
child, involvement and the emergency access, request or handover it is about only in its
sealed `about`, and names its child by a keyed tag (`practice.involvements.alerts`); a
handover holds its child and both involvements in its sealed `about`, and names its child
by a keyed tag (`practice.involvements.handovers`). An emergency access names its child
only by a keyed digest and a sealed id (`practice.emergency_refs`), a finding only by a
keyed digest of child and principal (`practice.holders`). Free text a user types
about a child (an emergency explanation) and the reason code given for an emergency or
statutory access are sealed under the child's data key (ADR 0010).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from contactpoint.registry.fields import Sealed
from contactpoint.registry.models import Child, Involvement, Organisation


class Alert(models.Model):
    """Something a user should know, shown in the service (and, without child data, mailed)."""

    class Kind(models.TextChoices):
        JOINED = "joined", "Another service has started working with a child"
        EMERGENCY_ACCESS = "emergency_access", "Emergency access to a child's record"
        HANDOVER = "handover", "Asked to hand over the lead professional role"
        LEAD_CHANGED = "lead_changed", "The lead professional has changed"
        CONTACT_REQUEST = "contact_request", "A practitioner asks to be put in touch"
        CONFIRM_DUE = "confirm_due", "An involvement needs confirming"
        EXPIRED = "expired", "An involvement expired"
        SHIELDED_JOINED = "shielded_joined", "A service registered with a shielded child"
        SHIELDING_REVIEW_DUE = "shielding_review_due", "A child's shielding is due for review"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    # The kind, the child, the involvement and the emergency access, contact request or
    # handover, sealed at one fixed length under a key derived from the index key
    # (`practice.involvements.alerts`): every alert row looks alike.
    about = Sealed()
    # The child, by keyed tag: what removes a child's alerts (its purge, an involvement's
    # removal) finds them by, joining no other table.
    child_tag = models.BinaryField(max_length=16, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["recipient", "read_at"], name="alert_inbox")]

    # What `about` names, once opened and fetched (`alerts.opened`): not columns.
    child: Child | None = None
    involvement: Involvement | None = None
    emergency: EmergencyAccess | None = None
    contact_request: ContactRequest | None = None
    handover: Handover | None = None

    def __str__(self) -> str:
        return f"alert {self.pk}"


class EmergencyAccess(models.Model):
    """A time-limited view of a child's contacts without an involvement, reviewed afterwards."""

    class Reason(models.TextChoices):
        IMMEDIATE_RISK = "immediate_risk", "The child is at immediate risk of harm"
        MISSING = "missing", "The child is missing"
        OUT_OF_HOURS = "out_of_hours", "Out-of-hours safeguarding response"
        MEDICAL = "medical", "A medical emergency"

    class Outcome(models.TextChoices):
        JUSTIFIED = "justified", "Justified"
        NOT_JUSTIFIED = "not_justified", "Not justified: take it further"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    # The child, by keyed digest of child and user and by sealed id only
    # (`practice.emergency_refs`): a row naming its child would say it had an emergency.
    holder = models.BinaryField(max_length=16, db_index=True)
    child_ref = Sealed()
    reason = Sealed()  # under the child's key, padded: `missing` is a fact about the child
    explanation = Sealed()  # under the child's key: it may say why the child is at risk
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)

    # The child, once opened from `child_ref` (`practice.emergency_refs`): not a column.
    child: Child | None = None

    def __str__(self) -> str:
        return f"emergency access {self.pk}"


class ContactRequest(models.Model):
    """A brokered request to a sensitive service: the service decides whether to get in touch.

    It names its involvement (and so its child) only by a keyed tag and a sealed id
    (contactpoint.practice.involvements.contact_requests): one exists only for a sensitive
    service."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for the service"
        CONTACTED = "contacted", "The service got in touch"
        DECLINED = "declined", "The service decided not to get in touch"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    involvement_tag = models.BinaryField(max_length=16)  # HMAC of the involvement's id
    involvement_sealed = Sealed()  # the involvement's id, under a derived index key
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    decided_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["requester", "involvement_tag"],
                condition=models.Q(status="open"),
                name="one_open_contact_request",
            ),
        ]

    def __str__(self) -> str:
        return f"contact request {self.pk}"


class Handover(models.Model):
    """A proposal that another involvement takes over as lead professional; agreed or not.

    It names its child by a keyed tag and holds the child and both involvements only in
    its sealed `about` (contactpoint.practice.involvements.handovers)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        AGREED = "agreed", "Agreed"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The child, by keyed tag: what the one-open-handover rule compares and a child's
    # removal finds its handovers by (`practice.involvements.handovers`).
    child_tag = models.BinaryField(max_length=16, db_index=True)
    # The child and both involvements, sealed under a key derived from the index key.
    about = Sealed()
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["child_tag"],
                condition=models.Q(status="proposed"),
                name="one_open_handover",
            ),
        ]

    # What `about` names, once opened (`handovers.opened`): not columns.
    child_id: uuid.UUID | None = None
    from_involvement: Involvement | None = None
    to_involvement: Involvement | None = None

    def __str__(self) -> str:
        return f"handover {self.pk}"


class Finding(models.Model):
    """A child a search showed to a user or API client: what lets them open its record.

    No browsing: a record opens only for a child the principal found in the last
    FINDING_SECONDS, or one their organisation is involved with (or has emergency access
    to, or is the local index team of). The row names neither child nor principal: only
    `holder`, the keyed digest of child id and principal ("user:<id>" or "client:<id>")
    under `finding-holder/v1` (`practice.holders.finding`), what the rule looks up. A
    principal beside a child would say who searched for which child.
    """

    holder = models.BinaryField(max_length=16)
    found_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["holder", "found_at"], name="finding_holder")]

    def __str__(self) -> str:
        return f"finding {self.pk}"
