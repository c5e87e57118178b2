"""The registry's database as another process holds it (locked), or as a read replica sees it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

# The tables a search may read stale: its candidates' index entries, rows and records.
STALE_TABLES = ("registry_blindindexentry", "registry_child", "registry_sourcerecord")


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


@contextmanager
def replica_of_test_database() -> Iterator[str]:
    """A `replica` database made by the settings' own CONTACTPOINT_REPLICA_URL handling:
    a second, read-only connection to this run's PostgreSQL test database, so that a read
    sent there sees what the primary committed and a write sent there fails."""
    from django.conf import settings

    from contactpoint import settings as project_settings
    from contactpoint.registry.replica import REPLICA_ALIAS

    primary = connections["default"].settings_dict
    url = "postgres://{USER}@{host}:{port}/{NAME}".format(
        host=primary["HOST"] or "127.0.0.1", port=primary["PORT"] or 5432, **primary
    )
    replica = project_settings.replica_database(url, primary, connections["keys"].settings_dict)
    configured = connections.configure_settings({"default": primary, REPLICA_ALIAS: replica})
    connections.settings[REPLICA_ALIAS] = settings.DATABASES[REPLICA_ALIAS] = configured[
        REPLICA_ALIAS
    ]
    try:
        yield REPLICA_ALIAS
    finally:
        connections[REPLICA_ALIAS].close()
        del connections[REPLICA_ALIAS]
        connections.settings.pop(REPLICA_ALIAS, None)
        settings.DATABASES.pop(REPLICA_ALIAS, None)


def tables(queries: CaptureQueriesContext) -> str:
    """The SQL a connection ran, to see which tables it read."""
    return " ".join(q["sql"] for q in queries.captured_queries)
