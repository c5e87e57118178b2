"""Blind index entries: truncated keyed digests that find a child without plaintext."""

from __future__ import annotations

from django.db import models

from contactpoint.registry.models.children import Child


class BlindIndexEntry(models.Model):
    """One truncated HMAC of one normalised value (docs/blind-indexes.md)."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    index = models.PositiveSmallIntegerField()
    value = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["index", "value", "child"], name="one_entry"),
        ]

    def __str__(self) -> str:
        return f"index {self.index}"
