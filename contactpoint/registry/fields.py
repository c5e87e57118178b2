"""The registry's own column types: Sealed, a column that holds only AEAD ciphertext under
the owning child's data key; CompactUUIDField, an id as 16 bytes on every database."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models


class Sealed(models.BinaryField):  # type: ignore[type-arg]
    """Ciphertext of one identifying value; see contactpoint.registry.cipher.

    A marker type so the schema tests can find every encrypted column and prove nothing
    identifying is stored any other way.
    """

    description = "AEAD ciphertext"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)


_ST = TypeVar("_ST", contravariant=True)  # the types django-stubs gives a field: set
_GT = TypeVar("_GT", covariant=True)  # and get (a nullable foreign key's get type: UUID | None)
if TYPE_CHECKING:

    class _UUIDField(models.UUIDField[_ST, _GT]): ...

else:  # Django's fields take no type arguments at run time: these are ignored

    class _UUIDField(models.UUIDField):
        def __class_getitem__(cls, _: Any) -> type:
            return cls


class CompactUUIDField(_UUIDField[_ST, _GT]):
    """A UUID stored as its 16 bytes on every database.

    PostgreSQL's `uuid` already is; on SQLite Django's UUIDField is 32 hexadecimal
    characters, and this is a BLOB of the 16 bytes instead (docs/adr/0013). A foreign key
    to it takes its type, so the ids of children, source records and involvements are 16
    bytes in every column and index that holds them. Read back, every value is a
    `uuid.UUID` as before; raw SQL on SQLite must pass and expects `UUID.bytes`.
    """

    description = "UUID stored as 16 bytes"

    def get_internal_type(self) -> str:
        # Not "UUIDField": Django's SQLite converter for that type reads 32 characters.
        return "CompactUUIDField"

    def db_type(self, connection: Any) -> str:
        if connection.vendor == "sqlite":
            return "blob"
        found: str = connection.data_types["UUIDField"]
        return found

    def cast_db_type(self, connection: Any) -> str:
        return self.db_type(connection)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if connection.vendor != "sqlite":
            return super().get_db_prep_value(value, connection, prepared)
        if value is None:
            return None
        if not isinstance(value, uuid.UUID):
            value = self.to_python(value)
        return value.bytes

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> uuid.UUID | None:
        found: uuid.UUID | None = self.to_python(value)
        return found

    def to_python(self, value: Any) -> Any:
        if isinstance(value, memoryview):
            value = bytes(value)
        if isinstance(value, bytes) and len(value) == 16:
            return uuid.UUID(bytes=value)
        return super().to_python(value)
