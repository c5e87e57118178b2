"""Rows written as an older schema held them, then every migration since run over them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

Made = TypeVar("Made")


def applied_models() -> Any:
    """The models of the migrations the database has applied, every app as it now stands.

    Not the state a target names (`loader.project_state(target)`): that also takes back the
    apps the target depends on, while `migrate` leaves them at their latest. An old practice
    model's key to a registry row must be written as the registry now holds it (16 bytes on
    SQLite since registry 0023_compact_ids, not the 32 characters of the state before)."""
    executor: Any = MigrationExecutor(connection)  # the stubs lack the applied state
    return executor._create_project_state(with_applied_migrations=True).apps


# The registry's last state with ids as 32 characters on SQLite (0023_compact_ids makes them
# 16 bytes). Another app's older migrations read and write registry ids as that state held
# them, so going back past one of them takes the registry back to it first.
REGISTRY_WITH_TEXT_IDS = ("registry", "0022_waiting_records_look_alike")


def back_to(before: list[tuple[str, str]]) -> None:
    """Migrate back to `before`; the registry to its text ids first, unless `before` names
    a registry state of its own."""
    if not any(app == "registry" for app, _ in before):
        MigrationExecutor(connection).migrate([REGISTRY_WITH_TEXT_IDS])
    MigrationExecutor(connection).migrate(before)


def written_before(before: list[tuple[str, str]], make: Callable[[Any], Made]) -> Made:
    """Migrate back to `before`, let `make` write rows with that state's models (its
    argument is the state's apps), then migrate forward to the latest; returns what `make`
    returned."""
    back_to(before)
    try:
        made = make(applied_models())
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    return made


def migrated(target: list[tuple[str, str]] | None = None) -> Any:
    """Migrate to `target` (None: every app's latest); return that state's models."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = target or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return applied_models()
