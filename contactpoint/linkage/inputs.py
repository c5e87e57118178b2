"""Where linkage reads records from: the registry's sealed source records, or standard feed
files."""

from __future__ import annotations

import csv
import datetime as dt
import json
import multiprocessing
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pyarrow as pa

from contactpoint.lib.processes import may_fork
from contactpoint.linkage.records import LinkRecord, as_table, from_canonical, from_feed
from contactpoint.registry import origins, payloads
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.feeds import COLUMNS, RowParser, source_files
from contactpoint.registry.models import SourceRecord

CHUNK = 2000
BLOCK = 20_000  # rows a worker parses at a stretch when feed_table shares a file


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
            body = payloads.open_payload(cipher, sr, payload) if cipher else None
            if body is not None:
                yield from_canonical(str(sr), json.loads(body))


def registry_by_source() -> dict[str, pa.Table]:
    """The registry's source records as one table per source code (registry_records'
    records, opened alike)."""
    found: dict[str, list[LinkRecord]] = {}
    codes = {pk: s.code for pk, s in origins.sources().items()}
    rows = SourceRecord.objects.order_by("id").values_list("id", "child_id", "payload", "origin")
    iterator = rows.iterator(chunk_size=CHUNK)
    while chunk := list(islice(iterator, CHUNK)):
        ciphers = ciphers_for({child or sr for sr, child, _, _ in chunk})
        for sr, child, payload, origin in chunk:
            cipher = ciphers.get(child or sr)
            body = payloads.open_payload(cipher, sr, payload) if cipher else None
            if cipher is not None and body is not None:
                code = codes[origins.open_origin(cipher, sr, origin)]
                found.setdefault(code, []).append(from_canonical(str(sr), json.loads(body)))
    return {code: as_table(records) for code, records in found.items()}


def feed_records(folder: Path, today: dt.date | None = None) -> Iterator[LinkRecord]:
    """The valid records of a feed folder's files, with ids `source:record_id`."""
    for code, path in source_files(folder):
        for _, record in _file_records(code, path, today or dt.date.today()):
            yield record


def _file_records(
    code: str, path: Path, today: dt.date, part: int = 0, parts: int = 1
) -> Iterator[tuple[int, LinkRecord]]:
    """The file's valid records with their block number; with `parts` > 1, only the
    blocks of BLOCK rows numbered `part` modulo `parts` are parsed (the rest are skipped)."""
    parser = RowParser(today)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        if tuple(next(reader, ())) != COLUMNS:
            return  # not a standard feed: `contactpoint load` says why
        for n, values in enumerate(reader):
            block = n // BLOCK
            if block % parts != part or len(values) != len(COLUMNS):
                continue
            record = parser.parse_values(values)
            if record is not None:
                yield block, from_feed(f"{code}:{record.record_id}", record)


Job = tuple[int, str, Path, dt.date, int, int]  # file number, source, path, today, part, parts


def _blocks(job: Job) -> list[tuple[int, int, pa.Table]]:
    """One worker's share of one file, as a table per block: (file, block, table)."""
    number, code, path, today, part, parts = job
    found: dict[int, list[LinkRecord]] = {}
    for block, record in _file_records(code, path, today, part, parts):
        found.setdefault(block, []).append(record)
    return [(number, block, as_table(records)) for block, records in found.items()]


def feed_table(folder: Path, workers: int = 2, today: dt.date | None = None) -> pa.Table:
    """feed_records as one Arrow table, standardising with several processes.

    The same records as feed_records, in the same order. Each of `workers` processes
    (forked, so they share this one's set-up) reads every file but parses only its own
    blocks of rows, so one large file is shared as evenly as many small ones.
    """
    day = today or dt.date.today()
    files = source_files(folder)
    parts = max(workers, 1)
    jobs: list[Job] = [
        (n, code, path, day, part, parts)
        for n, (code, path) in enumerate(files)
        for part in range(parts)
    ]
    if parts == 1 or not may_fork():
        results = [_blocks(job) for job in jobs]
    else:
        with multiprocessing.get_context("fork").Pool(parts) as pool:
            results = pool.map(_blocks, jobs, chunksize=1)
    blocks = sorted((b for result in results for b in result), key=lambda b: (b[0], b[1]))
    return pa.concat_tables([t for _, _, t in blocks]) if blocks else as_table([])
