"""What the loader reads: any feed file, seen as rows of the standard format.

A reader turns one kind of file (a standard feed, a local system's CSV through its mapping,
FHIR Patient resources) into `SourceRow`s keyed by `feeds.COLUMNS`, so that every kind is
validated by the same `RowParser` and loaded by the same resumable loop; `local_records`
reads a local system's files as the records linkage trains on. Pure: no database.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from contactpoint.lib.errors import Refusal
from contactpoint.linkage.records import LinkRecord, from_feed
from contactpoint.registry import feeds
from contactpoint.registry.feeds import Problem, RowParser


class FeedError(Refusal):
    """A whole file or folder cannot be loaded (the message says why); nothing was changed."""


@dataclass(frozen=True)
class SourceRow:
    """One record of a file, at `line` (a line, or an entry's position, counting from 1).

    `row` is None when the line could not be read as a record at all (the wrong number of
    fields). `problems` are those found while translating the record to the standard
    format: a row with any is rejected, and the standard checks of what could be
    translated are reported with them.
    """

    line: int
    row: dict[str, str] | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class RowReader:
    """How to read one kind of file as standard rows."""

    read: Callable[[Path], Iterator[SourceRow]]
    encoding: str = "UTF-8"
    # Besides the file's bytes, what decides its rows (a mapping's digest): part of the key
    # under which the file's progress is kept, so a corrected mapping reads the file anew.
    salt: str = ""

    def file_key(self, path: Path) -> str:
        sha = file_sha256(path)
        if not self.salt:
            return sha
        return hashlib.sha256(f"{sha}\x1f{self.salt}".encode()).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def standard_rows(path: Path) -> Iterator[SourceRow]:
    """Read a standard feed file (docs/feeds.md); its header must be exactly the standard."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != feeds.COLUMNS:
            raise FeedError(
                f"{path.name}: the header is not the standard feed header (docs/feeds.md)"
            )
        for values in reader:
            if len(values) != len(feeds.COLUMNS):
                yield SourceRow(reader.line_num, None)
            else:
                yield SourceRow(reader.line_num, dict(zip(feeds.COLUMNS, values, strict=True)))


STANDARD = RowReader(standard_rows)


def local_records(
    code: str, paths: list[Path], reader: RowReader, today: dt.date | None = None
) -> Iterator[LinkRecord]:
    """The records of a local system's files (a mapped CSV, FHIR) that its load would
    take, with ids `code:record_id`: what a load trains on before it links them."""
    parser = RowParser(today or dt.date.today())
    for path in paths:
        for row in reader.read(path):
            if row.row is None or any(p.rejects_row for p in row.problems):
                continue
            record = parser.parse(row.row)
            if record is not None:
                yield from_feed(f"{code}:{record.record_id}", record)
