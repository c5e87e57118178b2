"""Trained models, the review queue, and the record of every linkage decision.

Nothing here holds a child's identifying data: a model is m and u probabilities, term
frequencies are keyed by a keyed digest of the value, decisions hold internal ids and
weights, and a review item's reason and candidates are sealed (review_items.py).
"""

from __future__ import annotations

import uuid

from django.db import models

from contactpoint.registry.fields import Sealed


class LinkageModel(models.Model):
    """One trained version of the linkage model; exactly one is active at a time."""

    version = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    model = models.JSONField()  # Splink's saved model: settings with m and u probabilities
    records_trained = models.PositiveIntegerField(default=0)
    # What it was trained on, counts only: records, pairs per prior and EM rule, the prior,
    # each level's m and u; and how its thresholds were chosen (docs/linkage.md#versions).
    figures = models.JSONField(default=dict)
    # Match weights (log2 Bayes factors): link at or above upper, review from lower.
    upper_weight = models.FloatField()
    lower_weight = models.FloatField()
    active = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=models.Q(active=True), name="one_active_model"
            )
        ]

    def __str__(self) -> str:
        return f"linkage model v{self.version}"


class TermFrequency(models.Model):
    """How common a value is among the records a model was trained on, by keyed digest."""

    model = models.ForeignKey(LinkageModel, on_delete=models.CASCADE, related_name="+")
    column = models.CharField(max_length=20)
    key = models.BigIntegerField()
    frequency = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "column", "key"], name="one_tf_per_value")
        ]


class ReviewItem(models.Model):
    """A source record a person must decide on, with the children it might be.

    Why it waits (a Reason) and the children it might be are sealed in `about`
    (contactpoint.linkage.review_items): a `shielded` item looks like any other.
    """

    class Reason(models.TextChoices):
        REVIEW_BAND = "review_band", "Score between the thresholds"
        RUNNER_UP = "runner_up", "A close runner-up"
        SEVERAL = "several", "Several strong candidates"
        SHIELDED = "shielded", "Might be a shielded child"
        INSUFFICIENT = "insufficient", "Too little to match safely"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DECIDED = "decided", "Decided"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source_record = models.ForeignKey(
        "registry.SourceRecord", on_delete=models.CASCADE, related_name="+"
    )
    about = Sealed()  # [reason, [[child id, weight, contributions], ...]], review_items
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    model = models.ForeignKey(LinkageModel, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source_record"],
                condition=models.Q(status="open"),
                name="one_open_review_per_record",
            )
        ]

    def __str__(self) -> str:
        return f"review {self.pk}"


class LinkDecision(models.Model):
    """One decision about which child a record belongs to, by the model or a person."""

    class Action(models.TextChoices):
        AUTO_LINK = "auto_link", "Linked by the model"
        NEW_CHILD = "new_child", "New child"
        HOLD = "hold", "Sent to review"
        LINK = "link", "Linked by a person"
        NOT_A_MATCH = "not_a_match", "Not a match"
        MERGE = "merge", "Two children merged"
        UNMERGE = "unmerge", "A merge undone"
        UNLINK = "unlink", "Record taken off its child"
        IDENTITY_CHANGE = "identity_change", "New identity, old record sealed"

    AUTOMATIC = "contactpoint"  # decided_by for the model's own decisions

    # No index on the foreign keys below: no query selects decisions by record, child or
    # model (a decision is found by its id, or by the decision it reverses), and children,
    # records and model versions are never deleted. Indexes on them were a third of the
    # table's bytes, 2.5 decisions a child (docs/adr/0013-lean-registry-layout.md).
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    action = models.CharField(max_length=16, choices=Action.choices)
    source_record = models.ForeignKey(
        "registry.SourceRecord",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_index=False,
    )
    child = models.ForeignKey(
        "registry.Child", on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    # The child a record came from (a relink), or the child merged away.
    other_child = models.ForeignKey(
        "registry.Child", on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    moved = models.JSONField(default=list)  # ids of the source records a merge moved
    model = models.ForeignKey(
        LinkageModel, on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    weight = models.FloatField(null=True)
    decided_by = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, related_name="reversed_by"
    )

    def __str__(self) -> str:
        return f"{self.action} {self.pk}"


class LinkBlock(models.Model):
    """A record and a child, or two children, that matching must never put together."""

    class Reason(models.TextChoices):
        NOT_A_MATCH = "not_a_match", "A person decided they are different children"
        IDENTITY_CHANGE = "identity_change", "Old and new identity of one child"

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="+")
    source_record = models.ForeignKey(
        "registry.SourceRecord", on_delete=models.CASCADE, null=True, related_name="+"
    )
    other_child = models.ForeignKey(
        "registry.Child", on_delete=models.CASCADE, null=True, related_name="+"
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    decision = models.ForeignKey(LinkDecision, on_delete=models.CASCADE, related_name="+")


class DecisionNote(models.Model):
    """Why a person decided, and which signed-in user they were: a decision made on the web.

    The why is a short sentence about the records, not about the child; it is kept here
    only, never written to a log or to the audit log.
    """

    WHY_LONGEST = 200

    decision = models.OneToOneField(LinkDecision, on_delete=models.CASCADE, related_name="note")
    user = models.ForeignKey("access.User", on_delete=models.PROTECT, null=True, related_name="+")
    why = models.CharField(max_length=WHY_LONGEST)

    def __str__(self) -> str:
        return f"note on {self.decision_id}"
