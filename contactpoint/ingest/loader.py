"""Load feed files: organisations first, then each source's files in batches.

A file is read as standard rows by a reader (`rows.py`): a standard feed (a folder of
them, `load_folder`), or a local system's CSV through its mapping or FHIR Patient
resources (`load_local`). Each batch is one transaction that also records how far the
file has got, so a load killed at any point and run again ends exactly where one clean
run would, and loading the same file twice is a no-op (the file's SHA-256 is remembered;
a record whose content has not changed is recognised by its keyed digest). At the end of
every load, the records waiting as too thin to match safely are matched again against the
registry as it now stands (linkage/rematch.py): the file just loaded may hold their child.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from contactpoint.ingest import organisations
from contactpoint.ingest.batch import BatchLoader, BatchResult, check_row
from contactpoint.ingest.models import LoadedFile, QuarantinedRow
from contactpoint.ingest.rows import STANDARD, FeedError, RowReader, SourceRow, local_records
from contactpoint.linkage import inputs, store
from contactpoint.linkage.records import as_table
from contactpoint.linkage.rematch import rematch
from contactpoint.registry import involvements
from contactpoint.registry.feeds import RowParser, source_files
from contactpoint.registry.models import Source
from contactpoint.registry.sources import local_source, national_source

__all__ = ["FeedError", "LoadReport", "load_file", "load_folder", "load_local"]

Progress = Callable[[str], None]


@dataclass
class LoadReport:
    files_loaded: int = 0
    files_already_loaded: int = 0
    result: BatchResult = field(default_factory=BatchResult)
    # One line for each file that loaded nothing: no rows at all, or every row rejected.
    failures: list[str] = field(default_factory=list)

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
    store.active_or_trained(lambda: inputs.feed_table(folder), progress)
    for code, path in files:
        load_file(code, path, report, progress, batch_size)
    rematch(progress)
    return report


def load_file(
    code: str, path: Path, report: LoadReport, progress: Progress | None, batch_size: int
) -> None:
    """Load one standard feed file of the national source `code`."""
    opened = open_file(path, STANDARD)
    load_rows(national_source(code), opened, report, progress, batch_size)


def load_local(
    source: LocalSource,
    paths: list[Path],
    reader: RowReader,
    progress: Progress | None = None,
    batch_size: int = 500,
    organisation: str = "",
) -> LoadReport:
    """Load files of a local system (a mapped CSV, FHIR) in order, as the local source.

    Each file is opened (its header or Bundle read and checked) before anything is written,
    so a file refused whole changes nothing, not even the source. `organisation` is the
    code every row names (a mapping's constant org_code): unknown, it would reject every
    row, so the load is refused instead.
    """
    check_organisation(organisation)
    for path in paths:
        open_file(path, reader)  # a file refused whole is refused before any training
    store.trained_for_source(
        source.code,
        lambda: as_table(local_records(source.code, paths, reader)),
        inputs.registry_by_source,
        progress,
    )
    report = LoadReport()
    registered: Source | None = None
    for path in paths:
        opened = open_file(path, reader)
        try:
            registered = registered or local_source(source.code, source.name)
        except ValueError as exc:  # a national source's code: its message says so
            raise FeedError(str(exc)) from None
        load_rows(registered, opened, report, progress, batch_size)
    rematch(progress)
    return report


def check_organisation(code: str) -> None:
    """Refuse a load whose every row names `code` (a mapping's constant) when it is not
    known: every row would be rejected."""
    if code and not involvements.organisation_ids({code}):
        raise FeedError(f"organisation {code!r} is not known: load its organisations.csv first")


def local_files(path: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """`path` itself, or the files of folder `path` ending in one of `suffixes`, by name."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FeedError(f"{path} is neither a file nor a folder")
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise FeedError(f"{path} holds no file ending {' or '.join(suffixes)}")
    return files


@dataclass(frozen=True)
class LocalSource:
    code: str
    name: str


@dataclass
class OpenedFile:
    path: Path
    key: str  # the LoadedFile key: the file's SHA-256, with the reader's salt if any
    rows: Iterator[SourceRow]
    encoding: str


def open_file(path: Path, reader: RowReader) -> OpenedFile:
    """Start reading `path`: a header or document refused raises FeedError here."""
    rows = reader.read(path)
    try:
        first = next(rows, None)
    except UnicodeDecodeError:
        raise FeedError(f"{path.name}: not {reader.encoding} in its first row") from None
    ahead = itertools.chain([] if first is None else [first], rows)
    return OpenedFile(path, reader.file_key(path), ahead, reader.encoding)


def load_rows(
    source: Source,
    opened: OpenedFile,
    report: LoadReport,
    progress: Progress | None,
    batch_size: int,
) -> None:
    """Load an opened file's rows in batches, resuming after the last committed batch."""
    loaded, _ = LoadedFile.objects.get_or_create(
        source=source, sha256=opened.key, defaults={"file_name": opened.path.name}
    )
    if loaded.completed_at is not None:
        report.files_already_loaded += 1
        _check_outcome(loaded, report)
        return
    meter = Meter(f"{source.code}/{opened.path.name}", loaded.lines_done, progress)
    batch: list[SourceRow] = []
    try:
        for number, row in enumerate(opened.rows, start=1):
            if number <= loaded.lines_done:
                continue  # committed by an earlier, interrupted run
            batch.append(row)
            if len(batch) >= batch_size:
                _commit(loaded, batch, report)
                batch = []
                meter.tick(loaded.lines_done)
        _commit(loaded, batch, report, final=True)
    except UnicodeDecodeError as exc:
        raise FeedError(
            f"{opened.path.name}: not {opened.encoding} after row {loaded.lines_done:,}"
        ) from exc
    report.files_loaded += 1
    meter.done(loaded.lines_done)
    _check_outcome(loaded, report)


def _check_outcome(loaded: LoadedFile, report: LoadReport) -> None:
    """Note a file that loaded nothing, with the reasons its rows were rejected by field."""
    reasons = Counter(
        {
            f"{f} {r}": n
            for f, r, n in QuarantinedRow.objects.filter(
                loaded_file=loaded, severity=QuarantinedRow.Severity.REJECTED
            )
            .order_by()
            .values_list("field", "reason")
            .annotate(n=Count("id"))
        }
    )
    kept = loaded.rows_loaded + loaded.rows_unchanged
    if failure := file_failure(loaded.file_name, loaded.lines_done, kept, reasons):
        report.failures.append(failure)


def file_failure(name: str, rows: int, kept: int, reasons: Counter[str]) -> str | None:
    """Why a file loaded nothing, in one line (counts, fields and rules: never a value);
    None when it loaded at least one row."""
    if rows == 0:
        return f"{name}: holds no records (only a header, or nothing)"
    if kept:
        return None
    why = "; ".join(f"{reason}: {n:,}" for reason, n in sorted(reasons.items()))
    return f"{name}: every one of its {rows:,} rows was rejected ({why or 'see quarantine'})"


class Meter:
    """Progress lines for people: at most one every few seconds, with the rate and, when
    the total is known (`total`), how much is done and the time left at that rate."""

    EVERY = 5.0

    def __init__(
        self, label: str, start: int, progress: Progress | None, total: int | None = None
    ) -> None:
        self.label, self.start, self.progress, self.total = label, start, progress, total
        self.started = self.last = time.monotonic()

    def _rate(self, lines: int) -> str:
        elapsed = time.monotonic() - self.started
        return f"{elapsed:.0f} s, {(lines - self.start) / max(elapsed, 1e-9):,.0f} rows/s"

    def _left(self, lines: int) -> str:
        """ ", 41% of 12,795, about 87 s left" (empty without a total or a rate yet)."""
        done = lines - self.start
        if not self.total or done <= 0:
            return ""
        elapsed = time.monotonic() - self.started
        left = max(self.total - lines, 0) * elapsed / done
        return f", {lines / self.total:.0%} of {self.total:,}, about {left:,.0f} s left"

    def tick(self, lines: int) -> None:
        if self.progress and time.monotonic() - self.last >= self.EVERY:
            self.last = time.monotonic()
            rate = self._rate(lines) + self._left(lines)
            self.progress(f"load: {self.label}: {lines:,} rows, {rate}")

    def done(self, lines: int) -> None:
        if self.progress:
            self.progress(f"load: {self.label}: done, {lines:,} rows, {self._rate(lines)}")


def _commit(
    loaded: LoadedFile,
    batch: list[SourceRow],
    report: LoadReport,
    final: bool = False,
) -> None:
    clean = [r for r in batch if not _refused(r)]
    with transaction.atomic():
        # One loader per source at a time: a second one waits here rather than racing.
        source = Source.objects.select_for_update().get(pk=loaded.source_id)
        result = BatchLoader(source, loaded).run(clean) if clean else BatchResult()
        result.add(_reject(loaded, [r for r in batch if _refused(r)]))
        loaded.lines_done += len(batch)
        loaded.rows_loaded += result.loaded
        loaded.rows_unchanged += result.unchanged
        loaded.rows_quarantined += result.rejected
        if final:
            loaded.completed_at = timezone.now()
        loaded.save()
    report.result.add(result)


def _refused(row: SourceRow) -> bool:
    """Whether translating the row found a problem that rejects it (before any checks)."""
    return any(p.rejects_row for p in row.problems)


def _reject(loaded: LoadedFile, rows: list[SourceRow]) -> BatchResult:
    """Quarantine rows that could not be translated, with the standard checks of the rest."""
    parser = RowParser(dt.date.today())
    entries = []
    for r in rows:
        _, problems = check_row(parser, r, ())
        entries += [QuarantinedRow.for_problem(loaded, r.line, p) for p in problems]
    QuarantinedRow.objects.bulk_create(entries, ignore_conflicts=True)
    return BatchResult(rejected=len(rows))
