"""The registry's database held by another process, as a locked database looks to the service."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection


@contextmanager
def database_locked() -> Iterator[None]:
    """Another process holds the registry's write lock (SQLite) or the tables a token grant
    writes (PostgreSQL) and does not let go."""
    settings_db = connection.settings_dict
    if connection.vendor == "sqlite":
        holder = sqlite3.connect(settings_db["NAME"], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    with psycopg.connect(
        host=settings_db["HOST"],
        port=settings_db["PORT"] or 5432,
        user=settings_db["USER"],
        password=settings_db["PASSWORD"] or None,
        dbname=settings_db["NAME"],
    ) as other:
        other.execute("LOCK TABLE access_throttle, access_apitoken, audit_head IN EXCLUSIVE MODE")
        yield
        other.rollback()
