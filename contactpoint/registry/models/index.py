"""Blind index entries: truncated keyed digests that find a child without plaintext."""

from __future__ import annotations

from django.db import models

from contactpoint.registry.models.children import Child


class BlindIndexEntry(models.Model):
    """One truncated HMAC of one normalised value (docs/blind-indexes.md).

    Keyed by what it says, (index, value, child): blocking reads that key's order, and a
    surrogate id would be one more column and one more index on six rows a child
    (docs/adr/0013-lean-registry-layout.md).
    """

    pk = models.CompositePrimaryKey("index", "value", "child")
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    index = models.PositiveSmallIntegerField()
    # At most 22 bits (blind_index.SPECS): 4 bytes, not 8, in the row and in the key.
    value = models.IntegerField()

    def __str__(self) -> str:
        return f"index {self.index}"
