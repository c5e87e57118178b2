"""`contactpoint load --bulk FOLDER`: a first load into an empty registry, clustered at once.

The row loader (loader.py, batch.py) matches each record against the registry in real time,
a few hundred rows a second. Into an empty registry there is nothing to match against yet,
so this reads every feed file of the folder, clusters all records at once with Splink
(contactpoint/linkage/bulk.py), and writes the children set-based, in chunks of clusters
(plan.py says what becomes of each cluster).

Memory does not grow with the folder: each record is staged in the linkage DuckDB as it is
read (which spills past CONTACTPOINT_LINKAGE_MEMORY to the linkage spill folder), Splink
links it there, and the clusters are streamed back one chunk at a time. Only the bad rows
and the waiting records' candidates are held in Python.

Resumable: every id is derived from the records (source record ids as batch.py derives
them, a child's from the record that founds it), the clusters are the same for the same
records and model, and each chunk is one transaction. A run killed part-way and run again
skips the chunks already committed; data keys left by a chunk that did not commit are
reused, so there are no duplicates and no orphan keys. The files are marked loaded only at
the very end, so a later `contactpoint load` of the same folder is then a no-op, but for
matching again the records waiting as too thin to match safely (linkage/rematch.py), which
every load ends with.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.db import connections, transaction
from django.utils import timezone

from contactpoint.ingest import organisations
from contactpoint.ingest.bulk import plan, worker
from contactpoint.ingest.bulk.plan import Staging, Unit
from contactpoint.ingest.bulk.read import Readers, Reading, read_folder
from contactpoint.ingest.bulk.write import ChunkWriter, Written
from contactpoint.ingest.loader import LoadReport, LocalSource, Meter, file_failure
from contactpoint.ingest.models import LoadedFile, QuarantinedRow
from contactpoint.ingest.rows import STANDARD, FeedError, RowReader, local_records
from contactpoint.linkage import bulk, store, training
from contactpoint.linkage.inputs import feed_table, registry_by_source
from contactpoint.linkage.models import LinkDecision
from contactpoint.linkage.records import as_table
from contactpoint.linkage.rematch import rematch
from contactpoint.registry.feeds import source_files
from contactpoint.registry.models import BlindIndexEntry, Child, Involvement, Source, SourceRecord
from contactpoint.registry.sources import local_source, national_source

Progress = Callable[[str], None]
CHUNK = 2000  # clusters per transaction
WORKERS = os.cpu_count() or 1  # processes reading, then writing, at once


class BulkRefused(FeedError):
    """The registry is not empty (or holds another load): nothing was changed."""


@dataclass
class BulkReport(LoadReport):
    clusters: int = 0
    chunks_written: int = 0
    chunks_skipped: int = 0  # committed by an earlier, interrupted run

    def summary(self) -> str:
        if self.files_loaded == 0:
            return super().summary()
        return (
            f"{super().summary()}; bulk: {self.clusters:,} clusters in "
            f"{self.chunks_written + self.chunks_skipped:,} chunk(s), "
            f"{self.chunks_skipped:,} of them written by an earlier run"
        )


@dataclass(frozen=True)
class LocalFiles:
    """A local system's files for a bulk load: a mapped CSV's or FHIR's, all one source's."""

    source: LocalSource
    paths: list[Path]
    reader: RowReader

    def files(self) -> list[tuple[str, Path, str]]:
        return [(self.source.code, p, self.reader.file_key(p)) for p in self.paths]


def bulk_load_folder(
    folder: Path,
    progress: Progress | None = None,
    chunk_size: int = CHUNK,
    workers: int = WORKERS,
    local: LocalFiles | None = None,
) -> BulkReport:
    """Load a feed folder into an empty registry (or finish a bulk load of it killed part-way).

    `workers` processes check rows, and then write chunks, at once (one: all in this
    process). With `local`, the files are those of a local system (`folder` is the path
    they were found at), read by its reader and loaded as its source.

    Raises:
        BulkRefused: the registry holds children or source records from anything but an
            unfinished bulk load of exactly this folder, with the same linkage model.
        FeedError: a file cannot be read (nothing was changed but the organisations).
    """
    say = progress or (lambda line: None)
    files = _folder_files(folder) if local is None else local.files()
    report = BulkReport()
    if _already_loaded(files):
        report.files_already_loaded = len(files)
        rematch(progress)  # a run killed while matching waiting records again ends it
        return report
    _refuse_unless_empty(files, folder)
    model = _model(folder, workers, local, progress)
    if (folder / "organisations.csv").exists():
        organisations.load(folder / "organisations.csv", progress)
    with contextlib.ExitStack() as stack:
        readers = stack.enter_context(Readers(workers))
        con = stack.enter_context(training.connect())  # after the readers are forked
        reading = read_folder(files, say, Staging(con), readers, _reader(local))
        readers.close()
        loaded = _register(reading, _source_of(local), model)
        clock = time.monotonic()
        splink = store.splink_model(model)
        bulk.link_in(con, "cp_input", splink, model.upper, model.lower, progress)
        say(f"bulk: {reading.records:,} records clustered in {time.monotonic() - clock:.0f} s")
        planned = plan.plan(con)
        report.clusters = planned.units
        writer = ChunkWriter(model, loaded, planned.named)
        chunks = plan.chunks(con, planned, chunk_size)
        needed = -(-planned.units // chunk_size)  # no more workers than chunks
        _write(chunks, writer, report, progress, min(workers, needed), reading.records)
    _complete(loaded, reading)
    _pack()
    _analyze()
    rematch(progress)
    report.files_loaded = len(files)
    report.result.loaded = sum(reading.valid)
    report.result.rejected = sum(reading.rejected)
    report.result.fields_ignored = reading.fields_ignored
    report.failures = _failures(reading)
    return report


def _model(
    folder: Path, workers: int, local: LocalFiles | None, progress: Progress | None
) -> store.ActiveModel:
    """The model to link with. A local system's files train as any load of a source the
    model was not trained with does (store.trained_for_source: into an empty registry,
    the first-load rule); a feed folder's, by the first-load rule on its records."""
    if local is None:
        return store.active_or_trained(lambda: feed_table(folder, workers), progress)
    code, paths, reader = local.source.code, local.paths, local.reader
    return store.trained_for_source(
        code, lambda: as_table(local_records(code, paths, reader)), registry_by_source, progress
    )


def _reader(local: LocalFiles | None) -> RowReader:
    return STANDARD if local is None else local.reader


def _source_of(local: LocalFiles | None) -> Callable[[str], Source]:
    """What registers a file's source: a national feed's, or the local system's."""
    if local is None:
        return national_source
    code, name = local.source.code, local.source.name

    def register(_: str) -> Source:
        try:
            return local_source(code, name)
        except ValueError as exc:  # a national source's code: its message says so
            raise FeedError(str(exc)) from None

    return register


def _failures(reading: Reading) -> list[str]:
    """One line for each file that loaded nothing (loader.file_failure)."""
    reasons: list[Counter[str]] = [Counter() for _ in reading.files]
    for index, _, problem in reading.quarantine:
        if problem.rejects_row:
            reasons[index][f"{problem.field} {problem.reason}"] += 1
    return [
        failure
        for index, (_, path, _) in enumerate(reading.files)
        if (
            failure := file_failure(
                path.name, reading.lines[index], reading.valid[index], reasons[index]
            )
        )
    ]


# The registry's tables a load fills in random key order (uuids, keyed digests), largest first.
PACKED = (BlindIndexEntry, SourceRecord, Involvement, Child)


def _pack() -> None:
    """Rebuild the indexes of the tables a bulk load has just filled, on PostgreSQL.

    The load inserts their keys in random order, which leaves each B-tree page about 70%
    full; rebuilt in key order they are 90% full (PostgreSQL's default fill factor), a
    tenth of the registry's bytes (docs/benchmarks.md "Registry size").
    A bulk load writes only into an empty registry, before anyone reads it, so the lock
    REINDEX takes stops nobody. Pages filled by later random inserts split again, back
    towards 70%. On SQLite a rebuild would leave the freed pages in the file: not done.
    """
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in PACKED:
            cursor.execute(f"REINDEX TABLE {quote(model._meta.db_table)}")


def _analyze() -> None:
    """Give the query planner statistics of the tables a bulk load has just filled.

    Without them PostgreSQL planned searches as though the registry were empty (full scans
    of the source records: search p95 95 ms at 100,000 children, 30 ms after ANALYZE,
    docs/benchmarks.md), until autovacuum got round to it, or never where it is off.
    """
    connection = connections["default"]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _folder_files(folder: Path) -> list[tuple[str, Path, str]]:
    """The folder's feed files in load order, each with its SHA-256 (the LoadedFile key)."""
    if not folder.is_dir():
        raise FeedError(f"{folder} is not a folder")
    files = source_files(folder)
    if not files:
        raise FeedError(f"{folder} holds no source feed (docs/feeds.md)")
    return [(code, path, STANDARD.file_key(path)) for code, path in files]


def _already_loaded(files: list[tuple[str, Path, str]]) -> bool:
    done = set(
        LoadedFile.objects.filter(completed_at__isnull=False).values_list("source__code", "sha256")
    )
    return all((code, sha) in done for code, _, sha in files)


def _refuse_unless_empty(files: list[tuple[str, Path, str]], folder: Path) -> None:
    """Refuse a registry that holds anything but an unfinished bulk load of these files.

    A bulk load marks its files loaded only at the end and never counts lines before that,
    while the row loader counts them with every batch it commits: files begun and none
    counted, exactly this folder's, mean an interrupted bulk load of it.
    """
    children, records = Child.objects.count(), SourceRecord.objects.count()
    if not children and not records:
        return
    begun = set(LoadedFile.objects.values_list("source__code", "sha256", "lines_done"))
    mine = {(code, sha, 0) for code, _, sha in files}
    # Another model decided some records: by a decision, or (a bulk load's) by its files.
    other_model = (
        LinkDecision.objects.exclude(model__active=True).exists()
        or LoadedFile.objects.filter(model__active=False).exists()
    )
    if begun != mine or other_model:
        raise BulkRefused(
            f"the registry already holds {children:,} children and {records:,} source "
            "records: --bulk is only for a first load into an empty registry (or to finish "
            f"one of this folder); load into it with `contactpoint load {folder}`"
        )


def _register(
    reading: Reading, source_of: Callable[[str], Source], model: store.ActiveModel
) -> list[LoadedFile]:
    """Record the files as begun, with the model that decides their records, and
    quarantine their bad rows: one transaction."""
    with transaction.atomic():
        loaded = [
            LoadedFile.objects.get_or_create(
                source=source_of(code),
                sha256=sha,
                defaults={"file_name": path.name, "model": model.record},
            )[0]
            for code, path, sha in reading.files
        ]
        QuarantinedRow.objects.bulk_create(
            [
                QuarantinedRow.for_problem(loaded[index], line, p)
                for index, line, p in reading.quarantine
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
    return loaded


def _write(
    chunks: Iterator[list[Unit]],
    writer: ChunkWriter,
    report: BulkReport,
    progress: Progress | None,
    workers: int,
    records: int,
) -> None:
    """Write every chunk (`records` in all): in this process, or in `workers` processes at
    once.

    A worker prepares its chunk (the sealing, digests and golden records: most of the
    work) outside any transaction and holds the database's write lock only for the
    inserts. Chunks with waiting records, whose review candidates name children, start
    only once every chunk before them has committed.
    """
    meter = Meter("bulk write", 0, progress, records)
    rows = 0

    def done(count: int, written: Written | None) -> None:
        nonlocal rows
        rows += count
        if written is None:
            report.chunks_skipped += 1
        else:
            report.chunks_written += 1
            _count(report, written)
            if report.chunks_written % CHECKPOINT_EVERY == 0:
                checkpoint()
        meter.tick(rows)

    in_transaction = any(c.in_atomic_block for c in connections.all(initialized_only=True))
    if workers < 2 or in_transaction:  # a caller's transaction cannot span processes
        for chunk in chunks:
            done(*worker.write_chunk(writer, chunk))
        checkpoint()
        meter.done(rows)
        return
    if progress:
        progress(f"bulk: writing chunks in {workers} processes at once")
    with _pool(writer, workers) as pool:
        pending: deque[Future[tuple[int, Written | None]]] = deque()
        try:
            for chunk in chunks:
                if any(not u.is_child for u in chunk):
                    while pending:  # the children it may name are all committed first
                        done(*pending.popleft().result())
                pending.append(pool.submit(worker.write, chunk))
                while len(pending) > 2 * workers:  # a few chunks in memory, not all
                    done(*pending.popleft().result())
            while pending:
                done(*pending.popleft().result())
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    checkpoint()
    meter.done(rows)


CHECKPOINT_EVERY = 8  # chunks written between two SQLite checkpoints


def checkpoint() -> None:
    """On SQLite, copy the write-ahead log into the database and empty it.

    SQLite's own checkpoints empty the log only at a moment no one is reading or writing;
    with several processes writing chunks without a pause that moment never came, and a
    1-million-child load left a log of more than 17 GB beside a database of 2.6 GB. This
    waits (up to the busy timeout) for such a moment instead; if it does not come, the
    next call tries again.
    """
    connection = connections["default"]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _pool(writer: ChunkWriter, workers: int) -> ProcessPoolExecutor:
    """Worker processes started afresh (not forked: this process holds DuckDB and Arrow
    state that a forked child must not touch), each with this load's writer and databases
    (under test, the test databases). worker.py is what they run."""
    names = {alias: connections[alias].settings_dict["NAME"] for alias in connections}
    made = pickle.dumps((writer.model.record.pk, writer.loaded, writer.named))
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=worker.start,
        initargs=(os.getpid(), names, made),
    )


def _count(report: BulkReport, written: Written) -> None:
    r = report.result
    r.children_created += written.children
    r.pending += written.waiting
    r.in_review += written.waiting - written.held
    r.held_near_shielded += written.held


def _complete(loaded: list[LoadedFile], reading: Reading) -> None:
    """Mark every file loaded, with its counts: the last step, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        for index, lf in enumerate(loaded):
            lf.lines_done = reading.lines[index]
            lf.rows_loaded = reading.valid[index]
            lf.rows_quarantined = reading.rejected[index]
            lf.completed_at = now
        LoadedFile.objects.bulk_update(
            loaded, ["lines_done", "rows_loaded", "rows_quarantined", "completed_at"]
        )
