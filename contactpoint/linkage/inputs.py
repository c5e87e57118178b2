"""Where linkage reads records from: the registry's sealed source records, or feed files."""

from __future__ import annotations

import csv
import datetime as dt
import json
import multiprocessing
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pyarrow as pa

from contactpoint.ingest import loader
from contactpoint.ingest.feeds import COLUMNS, RowParser
from contactpoint.linkage.records import LinkRecord, as_table, from_canonical, from_feed
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.models import SourceRecord

CHUNK = 2000


def registry_records() -> Iterator[LinkRecord]:
    """Every source record in the registry, opened under its owner's key.

    A linked record is sealed under its child's key and a waiting one under its own; a
    record whose key was destroyed (a purged child) is skipped.
    """
    rows = SourceRecord.objects.order_by("id").values_list("id", "child_id", "payload")
    iterator = rows.iterator(chunk_size=CHUNK)
    while chunk := list(islice(iterator, CHUNK)):
        ciphers = ciphers_for({child or sr for sr, child, _ in chunk})
        for sr, child, payload in chunk:
            cipher = ciphers.get(child or sr)
            body = cipher.open(SourceRecord, "payload", sr, bytes(payload)) if cipher else None
            if body is not None:
                yield from_canonical(str(sr), json.loads(body))


def feed_records(folder: Path, today: dt.date | None = None) -> Iterator[LinkRecord]:
    """The valid records of a feed folder's files, with ids `source:record_id`."""
    for code, path in loader.source_files(folder):
        yield from _file_records(code, path, today or dt.date.today())


def _file_records(code: str, path: Path, today: dt.date) -> Iterator[LinkRecord]:
    parser = RowParser(today)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        if tuple(next(reader, ())) != COLUMNS:
            return  # not a standard feed: `contactpoint load` says why
        for values in reader:
            if len(values) != len(COLUMNS):
                continue
            record = parser.parse(dict(zip(COLUMNS, values, strict=True)))
            if record is not None:
                yield from_feed(f"{code}:{record.record_id}", record)


def _file_table(job: tuple[str, Path, dt.date]) -> pa.Table:
    return as_table(_file_records(*job))


def feed_table(folder: Path, workers: int = 2, today: dt.date | None = None) -> pa.Table:
    """feed_records as one Arrow table, standardising several files at a time.

    The same records as feed_records, in the same order; `workers` processes (forked, so
    they share this one's set-up) each take whole files.
    """
    jobs = [(code, path, today or dt.date.today()) for code, path in loader.source_files(folder)]
    if workers <= 1 or len(jobs) <= 1:
        tables = [_file_table(job) for job in jobs]
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            tables = pool.map(_file_table, jobs, chunksize=1)
    return pa.concat_tables(tables) if tables else as_table([])
