"""Seal and open a child's identifying values under that child's data key.

The associated data names the table, column and row, so a ciphertext moved to another
row, column or table fails to open instead of showing the wrong child's data.

A coded value (a role, a relationship) is sealed padded to a fixed size and sealed even
when empty: AES-GCM keeps the plaintext's length, so `foster_carer` sealed bare would be
told from `mother` by its ciphertext's length, and a null column from a filled one.
"""

from __future__ import annotations

import uuid

from django.db import models

from contactpoint.lib import crypto


def associated_data(model: type[models.Model], column: str, row_id: uuid.UUID) -> bytes:
    return f"contactpoint/v1|{model._meta.db_table}|{column}|{row_id}".encode()


PAD = b"\x00"


def seal_padded(
    key: bytes | crypto.SealingKey, value: str, size: int, associated: bytes, what: str
) -> bytes:
    """Seal `value` (possibly empty) under `key`, padded to exactly `size` bytes.

    Raises:
        ValueError: the value is longer than `size` bytes (a code the size forgot).
    """
    raw = value.encode()
    if len(raw) > size or raw.endswith(PAD):
        raise ValueError(f"{what}: a value of {len(raw)} bytes does not fit {size}")
    return _sealing(key).seal(raw + PAD * (size - len(raw)), associated)


def open_padded(key: bytes | crypto.SealingKey, sealed: bytes, associated: bytes) -> str:
    """Open a value `seal_padded` wrote ("" for an empty value)."""
    return _sealing(key).open(bytes(sealed), associated).rstrip(PAD).decode()


def _sealing(key: bytes | crypto.SealingKey) -> crypto.SealingKey:
    return key if isinstance(key, crypto.SealingKey) else crypto.SealingKey(key)


class ChildCipher:
    """Seals values for one owner (a child, or an unlinked source record), under one
    AES-GCM object built on first use and kept for every value after."""

    def __init__(self, owner_id: uuid.UUID, data_key: bytes) -> None:
        self.owner_id = owner_id
        self._data_key = data_key
        self._built: crypto.SealingKey | None = None

    @property
    def _key(self) -> crypto.SealingKey:
        if self._built is None:
            self._built = crypto.SealingKey(self._data_key)
        return self._built

    def seal(
        self, model: type[models.Model], column: str, row_id: uuid.UUID, value: str | None
    ) -> bytes | None:
        if value is None or value == "":
            return None
        return self._key.seal(value.encode(), associated_data(model, column, row_id))

    def open(
        self, model: type[models.Model], column: str, row_id: uuid.UUID, sealed: bytes | None
    ) -> str | None:
        if sealed is None:
            return None
        ad = associated_data(model, column, row_id)
        return self._key.open(bytes(sealed), ad).decode()

    def seal_bytes(
        self, model: type[models.Model], column: str, row_id: uuid.UUID, value: bytes
    ) -> bytes:
        """Seal raw bytes (a fixed layout, whose length says nothing)."""
        return self._key.seal(value, associated_data(model, column, row_id))

    def open_bytes(
        self, model: type[models.Model], column: str, row_id: uuid.UUID, sealed: bytes
    ) -> bytes:
        """Open a value `seal_bytes` wrote."""
        return self._key.open(bytes(sealed), associated_data(model, column, row_id))

    def seal_fixed(
        self, model: type[models.Model], column: str, row_id: uuid.UUID, value: str, size: int
    ) -> bytes:
        """Seal `value` (possibly empty) padded to exactly `size` bytes (`seal_padded`)."""
        ad = associated_data(model, column, row_id)
        return seal_padded(self._key, value, size, ad, column)

    def open_fixed(self, row: models.Model, column: str) -> str:
        """Open a column `seal_fixed` wrote ("" for an empty value)."""
        return self.open_fixed_value(type(row), column, row.pk, getattr(row, column))

    def open_fixed_value(
        self, model: type[models.Model], column: str, row_id: uuid.UUID, sealed: bytes
    ) -> str:
        """Open a value `seal_fixed` wrote, read without its row ("" for an empty value)."""
        return open_padded(self._key, sealed, associated_data(model, column, row_id))

    def open_field(self, row: models.Model, column: str) -> str | None:
        """Open the Sealed column `column` of a fetched row."""
        return self.open(type(row), column, row.pk, getattr(row, column))
