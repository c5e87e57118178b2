"""Load a feed folder: organisations first, then each source's files in batches.

Each batch is one transaction that also records how far the file has got, so a load
killed at any point and run again ends exactly where one clean run would, and loading the
same file twice is a no-op (the file's SHA-256 is remembered; a record whose content has
not changed is recognised by its keyed digest).
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from contactpoint.ingest import feeds, organisations
from contactpoint.ingest.batch import BatchLoader, BatchResult
from contactpoint.ingest.models import LoadedFile
from contactpoint.registry.models import Source
from contactpoint.registry.sources import national_source

Progress = Callable[[str], None]


class FeedError(Exception):
    """A whole file or folder cannot be loaded (the message says why); nothing was changed."""


@dataclass
class LoadReport:
    files_loaded: int = 0
    files_already_loaded: int = 0
    result: BatchResult = field(default_factory=BatchResult)

    def summary(self) -> str:
        r = self.result
        return (
            f"{self.files_loaded} file(s) loaded, {self.files_already_loaded} already loaded; "
            f"{r.loaded:,} rows loaded ({r.children_created:,} new children, "
            f"{r.pending:,} waiting for linkage, {r.held_near_shielded:,} of them because they "
            f"might be a shielded child), {r.unchanged:,} unchanged, "
            f"{r.rejected:,} rejected and {r.fields_ignored:,} field(s) ignored "
            "(see `contactpoint quarantine list`)"
        )


def source_files(folder: Path) -> list[tuple[str, Path]]:
    """The feed files of a folder, in load order: the NHS feed first, then the rest."""
    found: list[tuple[str, Path]] = []
    for code in feeds.SOURCES:
        if (folder / code).is_dir():
            found += [(code, p) for p in sorted((folder / code).glob("*.csv"))]
        elif (folder / f"{code}.csv").is_file():
            found.append((code, folder / f"{code}.csv"))
    return found


def load_folder(
    folder: Path, progress: Progress | None = None, batch_size: int = 500
) -> LoadReport:
    """Load the organisations and every source feed found in `folder`."""
    if not folder.is_dir():
        raise FeedError(f"{folder} is not a folder")
    files = source_files(folder)
    orgs = folder / "organisations.csv"
    if not files and not orgs.exists():
        raise FeedError(f"{folder} holds no organisations.csv and no source feed (docs/feeds.md)")
    report = LoadReport()
    if orgs.exists():
        organisations.load(orgs, progress)
    for code, path in files:
        load_file(code, path, report, progress, batch_size)
    return report


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str] | None]]:
    """Yield (line number, row); row is None when the line has the wrong number of fields."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != feeds.COLUMNS:
            raise FeedError(
                f"{path.name}: the header is not the standard feed header (docs/feeds.md)"
            )
        for values in reader:
            if len(values) != len(feeds.COLUMNS):
                yield reader.line_num, None
            else:
                yield reader.line_num, dict(zip(feeds.COLUMNS, values, strict=True))


def load_file(
    code: str, path: Path, report: LoadReport, progress: Progress | None, batch_size: int
) -> None:
    """Load one feed file, resuming after the last committed batch."""
    source = national_source(code)
    sha = file_sha256(path)
    loaded, _ = LoadedFile.objects.get_or_create(
        source=source, sha256=sha, defaults={"file_name": path.name}
    )
    if loaded.completed_at is not None:
        report.files_already_loaded += 1
        return
    meter = Meter(f"{code}/{path.name}", loaded.lines_done, progress)
    batch: list[tuple[int, dict[str, str] | None]] = []
    try:
        for number, (line, row) in enumerate(_rows(path), start=1):
            if number <= loaded.lines_done:
                continue  # committed by an earlier, interrupted run
            batch.append((line, row))
            if len(batch) >= batch_size:
                _commit(loaded, batch, report)
                batch = []
                meter.tick(loaded.lines_done)
        _commit(loaded, batch, report, final=True)
    except UnicodeDecodeError as exc:
        raise FeedError(f"{path.name}: not UTF-8 after row {loaded.lines_done:,}") from exc
    report.files_loaded += 1
    meter.done(loaded.lines_done)


class Meter:
    """Progress lines for people: at most one every few seconds, with the rate."""

    EVERY = 5.0

    def __init__(self, label: str, start: int, progress: Progress | None) -> None:
        self.label, self.start, self.progress = label, start, progress
        self.started = self.last = time.monotonic()

    def _rate(self, lines: int) -> str:
        elapsed = time.monotonic() - self.started
        return f"{elapsed:.0f} s, {(lines - self.start) / max(elapsed, 1e-9):,.0f} rows/s"

    def tick(self, lines: int) -> None:
        if self.progress and time.monotonic() - self.last >= self.EVERY:
            self.last = time.monotonic()
            self.progress(f"load: {self.label}: {lines:,} rows, {self._rate(lines)}")

    def done(self, lines: int) -> None:
        if self.progress:
            self.progress(f"load: {self.label}: done, {lines:,} rows, {self._rate(lines)}")


def _commit(
    loaded: LoadedFile,
    batch: list[tuple[int, dict[str, str] | None]],
    report: LoadReport,
    final: bool = False,
) -> None:
    with transaction.atomic():
        # One loader per source at a time: a second one waits here rather than racing.
        source = Source.objects.select_for_update().get(pk=loaded.source_id)
        result = BatchLoader(source, loaded).run(batch) if batch else BatchResult()
        loaded.lines_done += len(batch)
        loaded.rows_loaded += result.loaded
        loaded.rows_unchanged += result.unchanged
        loaded.rows_quarantined += result.rejected
        if final:
            loaded.completed_at = timezone.now()
        loaded.save()
    report.result.add(result)
