"""Reads that may go to a read replica of the registry, and the router that sends them.

A replica is seconds behind the primary, so a read goes there only when all of these hold
(docs/adr/0014-read-replica-for-stale-reads.md):

- a replica is configured (CONTACTPOINT_REPLICA_URL adds the `replica` database);
- the code reading said a stale answer will do, by running inside `stale_reads()`;
- the model is one of STALE_READ_MODELS: the registry's children, their sealed source
  records and their blind-index entries. Shield tags, users, sessions, quotas, findings,
  involvements, the audit log, the linkage model and the key store are never read there:
  an access decision, a quota or a sign-in made on a copy seconds old could let through
  what the primary already refuses;
- no transaction is open on the primary: a read inside one may need to see its writes.

Every write goes to the primary whatever the context (db_for_write has no say here).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_ALIAS = "replica"
# What a search's candidate fetch reads: blind-index entries, children, sealed records.
STALE_READ_MODELS = frozenset(
    {"registry.blindindexentry", "registry.child", "registry.sourcerecord"}
)

_stale_reads: ContextVar[bool] = ContextVar("stale_reads", default=False)


@contextmanager
def stale_reads() -> Iterator[None]:
    """Let the reads of STALE_READ_MODELS in this block go to the replica, if there is one
    (also a decorator). Each thread has its own context, so one request's block never
    reaches another's reads."""
    token = _stale_reads.set(True)
    try:
        yield
    finally:
        _stale_reads.reset(token)


def replica_configured() -> bool:
    return REPLICA_ALIAS in settings.DATABASES


class ReplicaRouter:
    """Before KeyStoreRouter: answers only for the reads it sends to the replica."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if (
            _stale_reads.get()
            and model._meta.label_lower in STALE_READ_MODELS
            and replica_configured()
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA_ALIAS
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # The replica is a copy of the primary's schema: it is never migrated itself.
        return False if db == REPLICA_ALIAS else None
