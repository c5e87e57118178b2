"""Source systems and the records they sent: the provenance of every fact."""

from __future__ import annotations

import uuid

from django.db import models

from contactpoint.registry.fields import CompactUUIDField, Sealed


class Source(models.Model):
    """A system that sends records: a national feed or a council's local system."""

    class Kind(models.TextChoices):
        NATIONAL = "national", "National feed"
        LOCAL = "local", "Local system"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Survivorship: when sources disagree, the lower rank wins (docs/survivorship.md).
    rank = models.PositiveSmallIntegerField(default=50)

    def __str__(self) -> str:
        return self.name


class SourceRecord(models.Model):
    """One record as a source sent it, and the child it was linked to.

    The source's own record id is kept only as a keyed digest (record_ref, of the source's
    code and the record id): enough to recognise the record when it comes again, nothing to
    read. The record itself is kept sealed, for re-linkage, under the data key of its child,
    or of itself while unlinked; so is which source sent it (`origin`, registry/origins.py):
    no column says in clear that a service knows the child
    (docs/adr/0010-special-category-facts-sealed.md).
    """

    class Status(models.TextChoices):
        LINKED = "linked", "Linked to a child"
        PENDING = "pending", "Waiting for linkage"

    class Method(models.TextChoices):
        NHS_NUMBER = "nhs_number", "Same NHS number"
        UPN = "upn", "Same UPN"
        DEMOGRAPHICS = "demographics", "Same name and date of birth, no conflicting identifier"
        MODEL = "model", "Linked by the model's match weight"
        PERSON = "person", "Linked by a person in review"
        NEW_CHILD = "new_child", "New child"
        # Every waiting record, whatever it waits for (too little to found a child on,
        # candidates too close, or near a shielded child): why is only in its sealed
        # review item, so the clear method never says a record may be a shielded child
        # (docs/adr/0010-special-category-facts-sealed.md).
        REVIEW = "review", "Waiting for a person"

    id = CompactUUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Unique alone: its HMAC input holds the source's code (registry/sources.record_ref).
    record_ref = models.BinaryField(max_length=16)
    child = models.ForeignKey(
        "registry.Child", on_delete=models.CASCADE, null=True, related_name="source_records"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    method = models.CharField(max_length=20, choices=Method.choices)
    confidence = models.FloatField()
    as_at = models.DateField()
    received_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    digest = models.BinaryField(max_length=16)  # keyed digest of the content: same row, no-op
    payload = Sealed()
    # What the golden record takes from this record: a bit per kind of fact
    # (registry/record_facts.Kind), chosen by survivorship (docs/survivorship.md).
    preferred = models.PositiveSmallIntegerField(default=0, db_default=0)
    # The addresses the record stated before it changed, with the day each stopped being
    # current, sealed like the payload (registry/record_facts.py); null: none.
    history = Sealed()
    # The source's id, sealed at a fixed length like the payload (registry/origins.py).
    origin = Sealed()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_ref"], name="one_record_per_ref"),
            models.CheckConstraint(
                condition=models.Q(status="pending", child__isnull=True)
                | models.Q(status="linked", child__isnull=False),
                name="linked_records_have_a_child",
            ),
        ]

    def __str__(self) -> str:
        return f"source record {self.id}"
