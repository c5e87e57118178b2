"""Which source sent a record, sealed with it (docs/adr/0010-special-category-facts-sealed.md).

A record from youth offending, a council's social care or a local clinic says that service
knows the child, so no row says in clear which source sent a record. Each record's `origin`
is its source's id in a fixed 4-byte layout, sealed (AES-256-GCM, associated data naming
table, column and row) under the data key of its owner (its child, or itself while it
waits), like its payload: every `origin` is 33 bytes, whatever the source, and a purge
shreds it with the rest. Whoever holds the key opens it; nothing selects records by it.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from contactpoint.keystore import service as keys
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.models import Source, SourceRecord

_LAYOUT = struct.Struct(">I")
SEALED_BYTES = 1 + 12 + _LAYOUT.size + 16  # version, nonce, the id, tag


def seal(cipher: ChildCipher, record_id: uuid.UUID, source_id: int) -> bytes:
    """The record's source, sealed for its `origin` column under its owner's key."""
    return cipher.seal_bytes(SourceRecord, "origin", record_id, _LAYOUT.pack(source_id))


def open_origin(cipher: ChildCipher, record_id: uuid.UUID, sealed: Any) -> int:
    """The id of the source that sent the record (its `origin` opened)."""
    (source_id,) = _LAYOUT.unpack(cipher.open_bytes(SourceRecord, "origin", record_id, sealed))
    return int(source_id)


def sources(ids: Iterable[int] | None = None) -> dict[int, Source]:
    """The sources, by id (every source when `ids` is None): a small reference table."""
    rows = Source.objects.all() if ids is None else Source.objects.filter(pk__in=set(ids))
    return {s.pk: s for s in rows}


def of_records(records: Sequence[SourceRecord]) -> dict[uuid.UUID, int]:
    """The source id of each record, opened under its owner's key (one key-store read for
    all); a record whose owner's key is gone (a purged child) is left out."""
    owners = {sr.child_id or sr.pk for sr in records}
    ciphers = {o: ChildCipher(o, k) for o, k in keys.data_keys(owners).items()}
    return {
        sr.pk: open_origin(ciphers[owner], sr.pk, sr.origin)
        for sr in records
        if (owner := sr.child_id or sr.pk) in ciphers
    }
