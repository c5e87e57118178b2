"""Read a bulk first load's feed files (load.py): check every row, stage the valid ones.

Checking a row (parsing, identifiers, keyed digests of its ids, the canonical JSON, the
linkage form) is most of the reading. This process reads the files' lines, in order, and
hands them out BATCH at a time to reading processes (`Readers`); each returns its batch
checked, as the tables `plan.Staging` appends, and this process appends them in order.
The readers are forked before DuckDB is opened (a forked child must not inherit its state)
and touch no database: they get the organisations' codes at the start.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import multiprocessing.pool
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.db import connections

from contactpoint.ingest.batch import (
    CANONICAL_JSON,
    check_row,
    derived_id,
    founding_keys,
)
from contactpoint.ingest.bulk.plan import Batch, Parsed, Staging
from contactpoint.ingest.loader import Meter, open_file
from contactpoint.ingest.rows import STANDARD, FeedError, RowReader, SourceRow
from contactpoint.lib.processes import may_fork
from contactpoint.linkage.records import from_feed
from contactpoint.registry.feeds import Problem, RowParser
from contactpoint.registry.models import Organisation
from contactpoint.registry.sources import record_ref

Progress = Callable[[str], None]
BATCH = 20_000  # rows a reading process checks at a time


@dataclass
class Reading:
    """Every feed file of a folder, read and checked; nothing written to the registry."""

    files: list[tuple[str, Path, str]]  # source code, path, key (SHA-256, with a salt)
    reader: RowReader = STANDARD
    records: int = 0  # staged, a record sent twice counted once
    quarantine: list[tuple[int, int, Problem]] = field(default_factory=list)  # file, line
    lines: list[int] = field(default_factory=list)  # per file: rows read
    valid: list[int] = field(default_factory=list)  # per file: rows loaded
    rejected: list[int] = field(default_factory=list)  # per file: rows quarantined
    fields_ignored: int = 0


@dataclass
class Checked:
    """One batch, checked: what a reading process sends back."""

    file: int
    tables: tuple[pa.Table, pa.Table]  # plan.Batch.tables
    quarantine: list[tuple[int, Problem]]  # line, problem
    valid: int = 0
    rejected: int = 0
    fields_ignored: int = 0


Job = tuple[int, str, int, list[SourceRow]]  # file, source code, seq of its first row, rows


class Readers:
    """`workers` forked reading processes (none for one: this process checks the rows).

    Use as a context manager, entered before the linkage DuckDB is opened.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: multiprocessing.pool.Pool | None = None

    def __enter__(self) -> Readers:
        orgs, today = set(Organisation.objects.values_list("code", flat=True)), dt.date.today()
        _start(orgs, today)
        if self.workers > 1 and not may_fork():
            self.workers = 1  # other threads run here: check the rows in this process
        if self.workers > 1:
            connections.close_all()  # not shared with the children; reopened on next use
            context = multiprocessing.get_context("fork")
            self.pool = context.Pool(self.workers, initializer=_start, initargs=(orgs, today))
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the reading processes (once reading is done: they hold memory)."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None

    def check(self, jobs: Iterator[Job]) -> Iterator[Checked]:
        """Each job's rows checked, in the order of the jobs; a few batches in flight."""
        if self.pool is None:
            yield from map(_check, jobs)
            return
        pending: deque[Any] = deque()
        for job in jobs:
            pending.append(self.pool.apply_async(_check, (job,)))
            while len(pending) > 2 * self.workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def read_folder(
    files: list[tuple[str, Path, str]],
    say: Progress,
    staging: Staging,
    readers: Readers,
    reader: RowReader = STANDARD,
) -> Reading:
    """Read and check every row of every file (each read by `reader`), staging the valid
    records; a file refused whole raises FeedError."""
    reading = Reading(files, reader)
    clock = time.monotonic()
    meter = Meter("bulk read", 0, say)
    if readers.pool is not None:
        say(f"bulk: checking rows in {readers.workers} processes at once")
    seen = 0
    for checked in readers.check(_jobs(files, reading)):
        staging.append(checked.tables)
        reading.quarantine += [(checked.file, line, p) for line, p in checked.quarantine]
        reading.valid[checked.file] += checked.valid
        reading.rejected[checked.file] += checked.rejected
        reading.fields_ignored += checked.fields_ignored
        seen += checked.valid + checked.rejected
        meter.tick(seen)
    reading.records = staging.close()
    rate = seen / max(time.monotonic() - clock, 1e-9)
    say(f"bulk: {seen:,} rows read from {len(files):,} file(s), {rate:,.0f} rows/s")
    return reading


def _jobs(files: list[tuple[str, Path, str]], reading: Reading) -> Iterator[Job]:
    """The files' rows, BATCH at a time, numbered across the folder in load order."""
    seq = 0
    for index, (code, path, _) in enumerate(files):
        opened = open_file(path, reading.reader)
        reading.lines.append(0)
        reading.valid.append(0)
        reading.rejected.append(0)
        rows: list[SourceRow] = []
        try:
            for row in opened.rows:
                rows.append(row)
                if len(rows) == BATCH:
                    yield index, code, seq + 1, rows
                    seq, rows = seq + len(rows), []
                reading.lines[index] += 1
        except UnicodeDecodeError as exc:
            raise FeedError(
                f"{path.name}: not {opened.encoding} after row {reading.lines[index]:,}; "
                "nothing was loaded"
            ) from exc
        if rows:
            yield index, code, seq + 1, rows
            seq += len(rows)


_ORGS: set[str] = set()
_PARSER: RowParser | None = None


def _start(orgs: set[str], today: dt.date) -> None:
    """What checking needs, set in each reading process (and in this one)."""
    global _ORGS, _PARSER
    _ORGS, _PARSER = orgs, RowParser(today)


def _check(job: Job) -> Checked:
    """Check one batch of rows as batch.py checks them: records, or problems quarantined."""
    index, code, seq, rows = job
    assert _PARSER is not None, "_start runs first"
    batch, quarantine, rejected, ignored = Batch(), [], 0, 0
    for n, row in enumerate(rows):
        record, problems = check_row(_PARSER, row, _ORGS)
        quarantine += [(row.line, p) for p in problems]
        if record is None:
            rejected += 1
            continue
        ignored += len(problems)
        ref = record_ref(code, record.record_id)
        sr_id = derived_id("source-record-id/v1", ref)
        link = from_feed(str(sr_id), record)
        doc = record.canonical()
        founding = bool(founding_keys(record, link))
        body = CANONICAL_JSON.encode(doc)
        parsed = Parsed(seq + n, index, row.line, ref, sr_id, body, founding, record.sensitive)
        batch.add(parsed, doc, link)  # a record sent twice: the last wins (Staging.close)
    valid = len(rows) - rejected
    return Checked(index, batch.tables(), quarantine, valid, rejected, ignored)
