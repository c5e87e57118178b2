"""A child. Every identifying value is a Sealed column.

What sources say about a child is in their source records' sealed payloads
(registry/record_facts.py); `SourceRecord.preferred` marks what the golden record shows
(docs/survivorship.md).
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import cached_property
from typing import Any

from django.db import models

from contactpoint.registry.fields import CompactUUIDField, Sealed


class Child(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"
        DECEASED = "deceased", "Deceased"
        # Identity change (adoption, protected identity): the old record, closed for good.
        SEALED = "sealed", "Sealed after an identity change"
        MERGED = "merged", "Merged into another child"
        # Six years after archiving: its data key destroyed, so no copy opens (retention).
        PURGED = "purged", "Purged: its data key destroyed"

    # Internal id, used by audit and every other table; never shown to users.
    id = CompactUUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The contactpoint ID, unique. A child is never deleted (a purge destroys its data key
    # and keeps the row; a merged child keeps its row), so no ID is ever issued twice.
    cpid = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Retention (docs/retention.md, ADR 0010): the first day of the quarter the record was
    # archived in (at 18, or at 25 with an extension), in clear for the purge to select
    # on; the exact day (`archived_day`) and the extension the local index team recorded
    # (`extension`, padded), sealed under the child's key (registry/retention_facts.py):
    # an archive day is about a birthday, and an extension says the child was looked after.
    archived_quarter = models.DateField(null=True)
    archived_day = Sealed()

    class Extension(models.TextChoices):
        CARE_LEAVER = "care_leaver", "A care leaver"
        SEN_CONSENT = "sen_consent", "Special educational needs, with the young person's consent"

    extension = Sealed()
    # A merged child points at the child it became; its cpid is never issued again.
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "children"

    def __str__(self) -> str:
        return self.cpid

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        """Read the row again, and forget the values opened or looked up from it."""
        super().refresh_from_db(*args, **kwargs)
        for name in ("shielded", "archived_on", "retention_extension"):
            self.__dict__.pop(name, None)

    @cached_property
    def shielded(self) -> bool:
        """Whether the child is shielded: set by a source's sensitive-record flag or by two
        people, never cleared by a feed. Not a column: a keyed tag of the child's id says
        it (registry/shield_tags.py), so a stolen database does not."""
        from contactpoint.registry import shield_tags  # it imports these models

        return shield_tags.is_shielded(self.pk)

    @cached_property
    def archived_on(self) -> dt.date | None:
        """The day the record was archived, opened (None: not archived, or key gone)."""
        from contactpoint.registry import retention_facts  # it imports these models

        return retention_facts.archived_on(self)

    @cached_property
    def retention_extension(self) -> str:
        """The extension the local index team recorded, opened ("": none)."""
        from contactpoint.registry import retention_facts

        return retention_facts.extension_of(self)
