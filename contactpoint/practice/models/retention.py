"""Reading an archived child's record more than a year after archiving (docs/retention.md).

The local index team of the child's area records a statutory reason and an explanation;
the access lasts for the rest of the day. The reason code (padded to a fixed length) and
the explanation are sealed under the child's data key, so they are shredded with the child
when the record is purged. The row names its child only by a keyed digest of child and
user and a sealed id (`practice.holders`): beside its user and organisation, a clear child
would say which team's staff read which child's archived record, for an enquiry or review.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from contactpoint.registry.fields import Sealed
from contactpoint.registry.models import Child, Organisation


class StatutoryAccess(models.Model):
    class Reason(models.TextChoices):
        CHILD_PROTECTION_ENQUIRY = (
            "child_protection_enquiry",
            "A child protection enquiry (Children Act 1989, section 47)",
        )
        SERIOUS_CASE_REVIEW = "serious_case_review", "A serious case review"
        CHILD_DEATH_REVIEW = "child_death_review", "A child death review"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    # The child, by keyed digest of child and user and by sealed id only
    # (`practice.holders.STATUTORY`).
    holder = models.BinaryField(max_length=16, db_index=True)
    child_ref = Sealed()
    reason = Sealed()  # under the child's key, padded: `child_death_review` says much
    explanation = Sealed()  # under the child's key: it may say why the child was at risk
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    # The child, once opened from `child_ref` (`practice.holders`): not a column.
    child: Child | None = None

    def __str__(self) -> str:
        return f"statutory access {self.pk}"
