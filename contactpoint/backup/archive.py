"""Write and restore registry backups with Django's serializers (JSON lines, gzip)."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.core import serializers
from django.core.serializers.base import DeserializationError
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from contactpoint.lib.errors import Refusal

FORMAT = "contactpoint-backup/1"
APPS = ("registry", "ingest")
CHUNK = 2000

Progress = Callable[[str], None]


class BackupError(Refusal):
    """The backup cannot be written or restored; the message says why."""


def backed_up_models() -> list[type[models.Model]]:
    """Registry models in an order where every row's references come before it."""
    app_models = [(apps.get_app_config(label), None) for label in APPS]
    ordered = serializers.sort_dependencies(app_models, allow_cycles=False)
    return [m for m in ordered if m._meta.app_label in APPS]


def _migration_state() -> dict[str, str]:
    recorder = MigrationRecorder(connection)
    latest: dict[str, str] = {}
    for app, name in recorder.applied_migrations():
        if app in APPS and name > latest.get(app, ""):
            latest[app] = name
    return latest


def _lines(model: type[models.Model]) -> Iterator[str]:
    query = model._default_manager.order_by("pk")
    for start in range(0, query.count(), CHUNK):
        text = serializers.serialize("jsonl", query[start : start + CHUNK])
        yield from text.splitlines()


def write_backup(out: Path, progress: Progress | None = None) -> dict[str, int]:
    """Write a consistent snapshot of the registry to `out`, atomically. Returns row counts."""
    partial = out.with_name(out.name + ".partial")
    counts: dict[str, int] = {}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        order = backed_up_models()
        header = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "migrations": _migration_state(),
            "models": [m._meta.label for m in order],
        }
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as handle:
            handle.write(json.dumps(header) + "\n")
            for model in order:
                n = 0
                for line in _lines(model):
                    handle.write(line + "\n")
                    n += 1
                counts[model._meta.label] = n
                if progress:
                    progress(f"backup: {model._meta.label}: {n:,} rows")
            handle.write(json.dumps({"end": counts}) + "\n")
    os.replace(partial, out)
    return counts


def _header(path: Path, handle: IO[str]) -> dict[str, Any]:
    try:
        header = json.loads(handle.readline())
    except (OSError, EOFError, ValueError) as exc:
        raise BackupError(f"{path} is not a contactpoint backup") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"{path} is not a {FORMAT} file")
    return header


def restore_backup(path: Path, progress: Progress | None = None) -> dict[str, int]:
    """Restore into an empty, migrated registry, all in one transaction."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        header = _header(path, handle)
        if header["migrations"] != _migration_state():
            raise BackupError("the backup was made at another schema version; migrate to match")
        with transaction.atomic():
            if any(m._default_manager.exists() for m in backed_up_models()):
                raise BackupError("the registry is not empty; restore needs a new database")
            try:
                counts, trailer = _insert_all(handle)
            except (OSError, EOFError, ValueError, DeserializationError) as exc:
                raise BackupError(
                    "the backup is incomplete or damaged; nothing was restored"
                ) from exc
            if trailer is None or {k: n for k, n in trailer.items() if n} != counts:
                raise BackupError("the backup is incomplete or damaged; nothing was restored")
    if progress:
        progress(f"restore: {sum(counts.values()):,} rows")
    return counts


def _insert_all(lines: IO[str]) -> tuple[dict[str, int], dict[str, int] | None]:
    counts: dict[str, int] = {}
    pending: list[models.Model] = []
    trailer = None
    for line in lines:
        if line.startswith('{"end":'):
            trailer = json.loads(line)["end"]
            break
        obj = next(iter(serializers.deserialize("jsonl", line))).object
        if (pending and type(pending[0]) is not type(obj)) or len(pending) >= CHUNK:
            _flush(pending, counts)
        pending.append(obj)
    _flush(pending, counts)
    return counts, trailer


def _flush(pending: list[models.Model], counts: dict[str, int]) -> None:
    if pending:
        model = type(pending[0])
        model._default_manager.bulk_create(pending)
        counts[model._meta.label] = counts.get(model._meta.label, 0) + len(pending)
        pending.clear()
