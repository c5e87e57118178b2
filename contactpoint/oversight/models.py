"""Misuse alerts for the privacy officer, the days the nightly detection judged, and a
user's declared home postcode (docs/oversight.md).

An alert names the user and their organisation; its evidence, the children's internal
ids, and what the officer writes when they review it (it may name someone) are sealed under
a data key of the alert's own: a stolen database does not say which children a user was
suspected of looking up (ADR 0012).
"""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.db import models

from contactpoint.keystore import service as keystore
from contactpoint.oversight.rules import Kind
from contactpoint.registry.cipher import ChildCipher
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
    children = Sealed()  # the evidence's internal ids, a JSON list, under the alert's key
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

    @property
    def child_ids(self) -> list[str]:
        """The children of the evidence (internal ids, as text), opened under the alert's
        key: [] when none were kept or the key is gone."""
        if self.children is None:
            return []
        key = keystore.data_keys([self.pk]).get(self.pk)
        if key is None:
            return []
        opened = ChildCipher(self.pk, key).open_field(self, "children")
        ids: list[str] = json.loads(opened or "[]")
        return ids

    @child_ids.setter
    def child_ids(self, ids: list[str]) -> None:
        """Seal the evidence's children under the alert's key (made on first use); the row
        is not saved."""
        cipher = ChildCipher(self.pk, keystore.ensure_data_key(self.pk))
        text = json.dumps(sorted(str(i) for i in ids))
        self.children = cipher.seal(MisuseAlert, "children", self.pk, text)


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
