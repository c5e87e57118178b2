"""Sealed: a column that holds only AEAD ciphertext under the owning child's data key."""

from __future__ import annotations

from typing import Any

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
