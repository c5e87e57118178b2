"""When a child's record was archived, and the extension that keeps it to 25, sealed
(ADR 0010, docs/retention.md).

The archive day follows the 18th (or 25th) birthday, so in clear it gave a date of birth
to within a month; an extension of `care_leaver` says the child was looked after. Both
are sealed under the child's data key at a fixed length. What the purge selects on stays
in clear, coarsened: `archived_quarter`, the first day of the archive's quarter. The purge
takes every child archived in a quarter wholly before the cut-off without opening it, and
opens the exact day only for the children of the cut-off's own quarter.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.db import transaction

from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.models import Child

EXTENSION_SIZE = 12  # the longest code, `care_leaver` or `sen_consent`, is 11 bytes
DAY_SIZE = 10  # an ISO date


def quarter(day: dt.date) -> dt.date:
    """The first day of the day's quarter."""
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def seal_extension(cipher: ChildCipher, extension: str) -> bytes:
    return cipher.seal_fixed(Child, "extension", cipher.owner_id, extension, EXTENSION_SIZE)


def open_extension(cipher: ChildCipher, sealed: bytes | None) -> str:
    """An extension `seal_extension` wrote ("" for none, or a child never given one)."""
    if sealed is None:
        return ""
    return cipher.open_fixed_value(Child, "extension", cipher.owner_id, sealed)


def seal_day(cipher: ChildCipher, day: dt.date) -> bytes:
    return cipher.seal_fixed(Child, "archived_day", cipher.owner_id, day.isoformat(), DAY_SIZE)


def open_day(cipher: ChildCipher, sealed: bytes | None) -> dt.date | None:
    if sealed is None:
        return None
    return dt.date.fromisoformat(
        cipher.open_fixed_value(Child, "archived_day", cipher.owner_id, sealed)
    )


def _cipher(child: Child) -> ChildCipher | None:
    from contactpoint.registry.children import ciphers_for  # children imports the ingest

    return ciphers_for({child.pk}).get(child.pk)


def archived_on(child: Child) -> dt.date | None:
    """The day the child's record was archived (None: not archived, or its key is gone)."""
    if child.archived_day is None or (cipher := _cipher(child)) is None:
        return None
    return open_day(cipher, child.archived_day)


def extension_of(child: Child) -> str:
    """The extension recorded for the child ("": none, or its key is gone)."""
    if child.extension is None or (cipher := _cipher(child)) is None:
        return ""
    return open_extension(cipher, child.extension)


def record_extension(cipher: ChildCipher, extension: str) -> None:
    Child.objects.filter(pk=cipher.owner_id).update(extension=seal_extension(cipher, extension))


def archive(ciphers: Iterable[ChildCipher], day: dt.date) -> None:
    """Mark these children archived on `day`: the quarter in clear, the day sealed."""
    rows = [
        Child(pk=c.owner_id, archived_quarter=quarter(day), archived_day=seal_day(c, day))
        for c in ciphers
    ]
    with transaction.atomic():
        Child.objects.filter(pk__in=[r.pk for r in rows]).update(status=Child.Status.ARCHIVED)
        Child.objects.bulk_update(rows, ["archived_quarter", "archived_day"], batch_size=500)


def fill_extensions(ciphers: dict[uuid.UUID, ChildCipher], empty: Iterable[uuid.UUID]) -> None:
    """Seal "no extension" for children that hold none, so that whether a child holds a
    sealed extension does not say whether its index team recorded one."""
    rows = [Child(pk=c, extension=seal_extension(ciphers[c], "")) for c in empty if c in ciphers]
    Child.objects.bulk_update(rows, ["extension"], batch_size=500)
