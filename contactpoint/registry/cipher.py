"""Seal and open a child's identifying values under that child's data key.

The associated data names the table, column and row, so a ciphertext moved to another
row, column or table fails to open instead of showing the wrong child's data.
"""

from __future__ import annotations

import uuid

from django.db import models

from contactpoint.lib import crypto


def associated_data(model: type[models.Model], column: str, row_id: uuid.UUID) -> bytes:
    return f"contactpoint/v1|{model._meta.db_table}|{column}|{row_id}".encode()


class ChildCipher:
    """Seals values for one owner (a child, or an unlinked source record)."""

    def __init__(self, owner_id: uuid.UUID, data_key: bytes) -> None:
        self.owner_id = owner_id
        self._key = data_key

    def seal(
        self, model: type[models.Model], column: str, row_id: uuid.UUID, value: str | None
    ) -> bytes | None:
        if value is None or value == "":
            return None
        return crypto.seal(self._key, value.encode(), associated_data(model, column, row_id))

    def open(
        self, model: type[models.Model], column: str, row_id: uuid.UUID, sealed: bytes | None
    ) -> str | None:
        if sealed is None:
            return None
        ad = associated_data(model, column, row_id)
        return crypto.open_sealed(self._key, bytes(sealed), ad).decode()

    def open_field(self, row: models.Model, column: str) -> str | None:
        """Open the Sealed column `column` of a fetched row."""
        return self.open(type(row), column, row.pk, getattr(row, column))
