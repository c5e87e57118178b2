"""Rows written as an older schema held them, then every migration since run over them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

Made = TypeVar("Made")


def written_before(before: list[tuple[str, str]], make: Callable[[Any], Made]) -> Made:
    """Migrate back to `before`, let `make` write rows with that state's models (its
    argument is the state's apps), then migrate forward to the latest; returns what `make`
    returned."""
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        made = make(MigrationExecutor(connection).loader.project_state(before).apps)
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
    return MigrationExecutor(connection).loader.project_state(targets).apps
