"""Create, fetch, destroy and re-wrap data keys. The only code that touches DataKey."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Count
from django.utils import timezone

from contactpoint.keystore.models import DataKey
from contactpoint.keystore.provider import KeyProvider, get_provider
from contactpoint.keystore.routers import KEYS_ALIAS
from contactpoint.lib import crypto


class MissingDataKey(LookupError):
    """No data key for this owner: never created, or destroyed (crypto-shredded)."""


def _context(owner_id: uuid.UUID) -> bytes:
    # Binds a wrapped key to its owner: a wrapped key copied onto another row won't open.
    return b"contactpoint/data-key/v1|" + owner_id.bytes


def create_data_keys(owner_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, bytes]:
    """Create and store a fresh data key for each owner; return them unwrapped.

    Committed in the key store at once and before the caller's registry transaction, so a
    crash can leave an unused key (harmless, reported by `keys status`) but never data
    without its key.
    """
    provider = get_provider()
    kek_id = provider.active_key_id()
    owners = list(dict.fromkeys(owner_ids))
    keys = dict(zip(owners, crypto.new_keys(len(owners)), strict=True))
    wrapped = provider.wrap_many(kek_id, [(k, _context(o)) for o, k in keys.items()])
    with transaction.atomic(using=KEYS_ALIAS):
        _insert(list(zip(owners, itertools.repeat(kek_id), wrapped)))
    return keys


def _insert(rows: list[tuple[uuid.UUID, str, bytes]]) -> None:
    """Insert (owner, kek_id, wrapped) rows: on PostgreSQL with one binary COPY (a bulk load makes
    thousands of keys a chunk: model instances and a parameter per value cost more than
    the database's work, as registry/inserts.py found for the registry), else in batches."""
    connection = connections[KEYS_ALIAS]
    if connection.vendor != "postgresql":
        made = [DataKey(owner_id=o, kek_id=k, wrapped=w) for o, k, w in rows]
        DataKey.objects.bulk_create(made, batch_size=500)
        return
    if not rows:
        return
    now = timezone.now()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ("owner_id", "kek_id", "wrapped", "created_at"))
    sql = f"COPY {quote(DataKey._meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
    # psycopg's own cursor: Django's wrapper has no copy().
    with (
        connection.cursor() as wrapper,
        connection.wrap_database_errors,
        wrapper.cursor.copy(sql) as copy,
    ):
        # Binary: psycopg's text format escapes each wrapped key with a regular expression.
        copy.set_types(["uuid", "varchar", "bytea", "timestamptz"])
        for owner, kek_id, wrapped in rows:
            copy.write_row((owner, kek_id, wrapped, now))


def ensure_data_keys(owner_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, bytes]:
    """Return a data key for each owner: the stored one if it exists, else a new one."""
    wanted = set(owner_ids)
    found = data_keys(wanted)
    return found | create_data_keys(wanted - found.keys())


def ensure_data_key(owner_id: uuid.UUID) -> bytes:
    """The owner's data key, made on first use; when two processes race to make it, the
    one stored first (an audit month's, a user's declared postcode, an alert's note)."""
    if (found := data_keys([owner_id]).get(owner_id)) is not None:
        return found
    try:
        return create_data_keys([owner_id])[owner_id]
    except IntegrityError:  # another process made it first
        return data_key(owner_id)


def data_keys(owner_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, bytes]:
    """Return the unwrapped data keys that exist among owner_ids."""
    provider = get_provider()
    wanted = list(set(owner_ids))
    found: dict[uuid.UUID, bytes] = {}
    for owner, kek, wrapped in _stored(wanted):
        found[owner] = provider.unwrap(kek, bytes(wrapped), _context(owner))
    return found


def _stored(owner_ids: list[uuid.UUID]) -> Iterator[tuple[uuid.UUID, str, bytes | memoryview]]:
    """The (owner, kek_id, wrapped) rows of these owners that exist: on PostgreSQL with the
    ids in one array parameter, a bulk load's thousands in one statement (a parameter an id
    cost more to send than the lookup), elsewhere 500 ids a statement."""
    connection = connections[router.db_for_read(DataKey)]
    if connection.vendor != "postgresql":
        for start in range(0, len(owner_ids), 500):
            chunk = owner_ids[start : start + 500]
            yield from DataKey.objects.filter(owner_id__in=chunk).values_list(
                "owner_id", "kek_id", "wrapped"
            )
        return
    if not owner_ids:
        return
    table = connection.ops.quote_name(DataKey._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT owner_id, kek_id, wrapped FROM {table} WHERE owner_id = ANY(%s)",  # noqa: S608
            [owner_ids],
        )
        yield from cursor.fetchall()


def data_key(owner_id: uuid.UUID) -> bytes:
    keys = data_keys([owner_id])
    if owner_id not in keys:
        raise MissingDataKey("no data key: never created or destroyed")
    return keys[owner_id]


def destroy_data_keys(owner_ids: Iterable[uuid.UUID]) -> int:
    """Crypto-shred: delete the data keys. Returns how many existed."""
    deleted, _ = DataKey.objects.filter(owner_id__in=list(owner_ids)).delete()
    return deleted


@dataclass(frozen=True)
class KeyStatus:
    active: str
    known: list[str]
    wrapped_by: dict[str, int]


def status(provider: KeyProvider | None = None) -> KeyStatus:
    provider = provider or get_provider()
    counts = DataKey.objects.values("kek_id").annotate(n=Count("owner_id")).order_by("kek_id")
    return KeyStatus(
        active=provider.active_key_id(),
        known=provider.key_ids(),
        wrapped_by={row["kek_id"]: row["n"] for row in counts},
    )


def rewrap_all(batch_size: int = 1000, progress: Callable[[int], None] | None = None) -> int:
    """Re-wrap every data key not under the active key-encryption key.

    Works in small transactions with a compare-and-set on kek_id, so it can run while the
    service creates and reads keys, and can be stopped and run again at any point.
    """
    provider = get_provider()
    target = provider.active_key_id()
    done = 0
    while True:
        batch = list(DataKey.objects.exclude(kek_id=target).order_by("owner_id")[:batch_size])
        if not batch:
            return done
        now = timezone.now()
        with transaction.atomic(using=KEYS_ALIAS):
            for row in batch:
                context = _context(row.owner_id)
                key = provider.unwrap(row.kek_id, bytes(row.wrapped), context)
                done += DataKey.objects.filter(owner_id=row.owner_id, kek_id=row.kek_id).update(
                    kek_id=target, wrapped=provider.wrap(target, key, context), rewrapped_at=now
                )
        if progress:
            progress(done)
