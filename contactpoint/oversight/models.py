"""Misuse alerts for the privacy officer, the days the nightly detection judged, and a
user's declared home postcode (docs/oversight.md).

An alert names the user and their organisation and holds its evidence by the children's
internal ids only; what the officer writes when they review it is sealed (it may name
someone), under a data key of the alert's own.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from contactpoint.oversight.rules import Kind
from contactpoint.registry.fields import Sealed


class MisuseAlert(models.Model):
    """One rule's finding about one user: a day, or (low and slow) the days it went on."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for review"
        REVIEWED = "reviewed", "Reviewed"

    class Outcome(models.TextChoices):
        NO_CONCERN = "no_concern", "No concern: the access was part of their work"
        ADVICE = "advice", "Advice given to the user"
        REFERRED = "referred", "Referred for investigation or discipline"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=[(k.value, k.value) for k in Kind])
    principal = models.CharField(max_length=60, db_index=True)  # user:<id> or client:<id>
    organisation_id = models.BigIntegerField(null=True, db_index=True)
    first_day = models.DateField()  # UK days judged
    last_day = models.DateField()
    raised_at = models.DateTimeField()
    reason = models.TextField()  # the rule's words: counts and thresholds, never a name
    child_ids = models.JSONField(default=list)  # internal ids, as text
    count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    note = Sealed()  # the reviewer's words, under the alert's own data key
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["organisation_id", "status", "raised_at"], name="misuse_queue"),
            models.Index(fields=["principal", "kind", "last_day"], name="misuse_by_user"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.principal} {self.first_day}"


class DetectionRun(models.Model):
    """A UK day judged by the nightly detection: judged once, whatever the runs."""

    day = models.DateField(primary_key=True)
    ran_at = models.DateTimeField()
    accesses = models.PositiveIntegerField()
    alerts = models.PositiveIntegerField()

    def __str__(self) -> str:
        return str(self.day)


class HomePostcode(models.Model):
    """The postcode a user declared as their home, sealed under a data key of the user's
    own: compared in the application with the postcode of each child they look at."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    postcode = Sealed()
    declared_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"home postcode of {self.user_id}"
