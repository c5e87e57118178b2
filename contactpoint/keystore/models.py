"""Wrapped data keys. This table lives in its own database, never in a registry backup."""

from __future__ import annotations

from django.db import models


class DataKey(models.Model):
    """One owner's AES-256 data key, wrapped under a key-encryption key.

    The owner is a child, or a source record still waiting for linkage. Deleting the row
    is crypto-shredding: every ciphertext under that key, in any copy, becomes noise.
    """

    owner_id = models.UUIDField(primary_key=True)
    kek_id = models.CharField(max_length=64, db_index=True)
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"data key for {self.owner_id} under {self.kek_id}"
