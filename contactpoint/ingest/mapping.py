"""A local system's CSV, read through an operator-written mapping file (docs/feeds.md).

The mapping (TOML) says which column holds each standard field, how its dates are
written and how its codes translate. Each row becomes a standard row (`feeds.COLUMNS`)
for the shared `RowParser`; a value that cannot be translated is a problem naming the
standard field, never quoting the value. Pure: no database.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import json
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contactpoint.ingest import feeds
from contactpoint.ingest.feeds import Problem
from contactpoint.ingest.rows import FeedError, RowReader, SourceRow
from contactpoint.registry.sources import local_code_problem

REQUIRED = ("record_id", "family_name", "date_of_birth")
DATE_FIELDS = ("as_at", "date_of_birth", "involvement_start")
CONSTANT_FIELDS = ("as_at", "org_code", "org_role")
ISO_DATE = "%Y-%m-%d"
TABLES = {
    "source": ("code", "name"),
    "csv": ("delimiter", "encoding"),
    "columns": feeds.COLUMNS,
    "dates": DATE_FIELDS,
    "values": feeds.COLUMNS,
    "constants": CONSTANT_FIELDS,
}
YES_NO = frozenset({"Y", "N"})
# What a value map may translate to, for the fields that take codes.
CODES: dict[str, frozenset[str]] = {
    "sex": frozenset({"M", "F", "U"}),
    "sensitive": YES_NO,
    "org_role": feeds.ORG_ROLES,
    **{f"carer{n}_relationship": feeds.RELATIONSHIPS for n in (1, 2)},
    **{f"carer{n}_parental_responsibility": YES_NO for n in (1, 2)},
}


class MappingError(FeedError):
    """The mapping file cannot be used (the message says where and why); nothing changed."""


@dataclass(frozen=True)
class Mapping:
    code: str
    name: str
    delimiter: str
    encoding: str
    columns: dict[str, str]  # standard field -> column of the local file
    dates: dict[str, str]  # date field -> its strptime format
    values: dict[str, dict[str, str]]  # field -> local value (case-folded) -> standard value
    constants: dict[str, str]  # field -> the same value for every row
    digest: str  # of the mapping's meaning, not its layout or comments

    def reader(self) -> RowReader:
        return RowReader(self.read, encoding=self.encoding, salt=self.digest)

    def read(self, path: Path) -> Iterator[SourceRow]:
        """Yield a standard row per record; a completely empty line holds none and is skipped."""
        with path.open(newline="", encoding=self.encoding) as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            header = next(reader, None)
            if header is None:
                raise FeedError(f"{path.name}: the file is empty, without even a header")
            index = self.header_index(path.name, header)
            for values in reader:
                if not values:
                    continue
                if len(values) != len(header):
                    yield SourceRow(reader.line_num, None)
                    continue
                row, problems = self.translate({c: values[i] for c, i in index.items()})
                yield SourceRow(reader.line_num, row, problems)

    def header_index(self, file_name: str, header: list[str]) -> dict[str, int]:
        """Where each mapped column is; refuses a header without one, or with one twice."""
        names = [h.strip() for h in header]
        by_column = {c: f for f, c in self.columns.items()}
        missing = [f"{c!r} ({by_column[c]})" for c in by_column if c not in names]
        if missing:
            raise FeedError(
                f"{file_name}: the header has no column {', '.join(missing)} named in the "
                f"mapping for source {self.code!r}"
            )
        twice = [repr(c) for c in by_column if names.count(c) > 1]
        if twice:
            raise FeedError(f"{file_name}: the header has column {', '.join(twice)} twice")
        return {c: names.index(c) for c in by_column}

    def translate(self, values: dict[str, str]) -> tuple[dict[str, str], tuple[Problem, ...]]:
        """The standard row for one record's mapped columns, and what could not be translated."""
        row = dict.fromkeys(feeds.COLUMNS, "") | self.constants
        problems = []
        for field, column in self.columns.items():
            value = " ".join(values[column].split())
            if value and field in self.values:
                if (code := self.values[field].get(value.casefold())) is None:
                    problems.append(Problem(field, f"is not a value listed in [values.{field}]"))
                    continue
                value = code
            if value and field in DATE_FIELDS:
                fmt = self.dates.get(field, ISO_DATE)
                try:
                    value = dt.datetime.strptime(value, fmt).date().isoformat()
                except ValueError:
                    problems.append(Problem(field, f"is not a date written {fmt}"))
                    continue
            row[field] = value
        return row, tuple(problems)


def read_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; raises MappingError saying what is wrong and where."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MappingError(f"mapping file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping file {path} cannot be read as UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"mapping file {path.name} is not valid TOML: {exc}") from exc
    try:
        return parse_mapping(doc)
    except MappingError as exc:
        raise MappingError(f"mapping file {path.name}: {exc}") from exc


def parse_mapping(doc: dict[str, Any]) -> Mapping:
    """Check a parsed mapping document and build the Mapping; raises MappingError."""
    _known_keys(doc)
    source, options = doc.get("source", {}), doc.get("csv", {})
    columns = _strings("columns", doc.get("columns", {}))
    constants = _constants(doc.get("constants", {}), columns)
    _required(columns, constants)
    return Mapping(
        code=_code(source.get("code")),
        name=_text("[source] name", source.get("name"), 120),
        delimiter=_delimiter(options.get("delimiter", ",")),
        encoding=_encoding(options.get("encoding", "utf-8-sig")),
        columns=columns,
        dates=_dates(doc.get("dates", {}), columns),
        values=_values(doc.get("values", {}), columns),
        constants=constants,
        digest=hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest(),
    )


def _known_keys(doc: dict[str, Any]) -> None:
    for key, table in doc.items():
        if key not in TABLES:
            raise MappingError(f"unknown table or key {key!r} (known: {', '.join(TABLES)})")
        if not isinstance(table, dict):
            raise MappingError(f"{key!r} must be a table, written [{key}]")
        unknown = [k for k in table if k not in TABLES[key]]
        if unknown:
            hint = "a standard field of docs/feeds.md" if key in ("columns", "values") else ""
            known = hint or ", ".join(TABLES[key])
            raise MappingError(f"[{key}] has unknown key {unknown[0]!r} (known: {known})")


def _text(where: str, value: object, longest: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{where} is missing or empty; it must be a string")
    if len(value) > longest:
        raise MappingError(f"{where} is longer than {longest} characters")
    return value.strip()


def _strings(table: str, values: dict[str, object]) -> dict[str, str]:
    return {k: _text(f"[{table}] {k}", v, 200) for k, v in values.items()}


def _code(value: object) -> str:
    code = _text("[source] code", value, 40)
    if problem := local_code_problem(code):
        raise MappingError(f"[source] code: {problem}")
    return code


def _delimiter(value: object) -> str:
    if not isinstance(value, str) or len(value) != 1 or value in '"\r\n':
        raise MappingError("[csv] delimiter must be one character (not a quote or line break)")
    return value


def _encoding(value: object) -> str:
    try:
        codecs.lookup(value if isinstance(value, str) else "")
    except LookupError:
        raise MappingError(
            "[csv] encoding is not an encoding Python knows (for example utf-8-sig, cp1252)"
        ) from None
    return str(value)


def _required(columns: dict[str, str], constants: dict[str, str]) -> None:
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise MappingError(f"[columns] must map {', '.join(missing)}: every record needs it")
    if "as_at" not in columns and "as_at" not in constants:
        raise MappingError(
            "as_at needs a column in [columns] or a date in [constants] (the extract date)"
        )


def _constants(values: dict[str, object], columns: dict[str, str]) -> dict[str, str]:
    both = [k for k in values if k in columns]
    if both:
        raise MappingError(f"{both[0]} is in both [columns] and [constants]; choose one")
    constants = {}
    for key, value in values.items():
        if key == "as_at":
            if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
                raise MappingError("[constants] as_at must be a TOML date, as_at = 2026-11-01")
            constants[key] = value.isoformat()
        else:
            constants[key] = _text(f"[constants] {key}", value, 100)
    if "org_role" in constants and constants["org_role"] not in feeds.ORG_ROLES:
        roles = ", ".join(sorted(feeds.ORG_ROLES))
        raise MappingError(f"[constants] org_role must be one of {roles}")
    org = [f for f in ("org_code", "org_role") if f in constants or f in columns]
    if len(org) == 1:
        raise MappingError("org_code and org_role come together: map or set both, or neither")
    return constants


def _dates(formats: dict[str, object], columns: dict[str, str]) -> dict[str, str]:
    checked = {}
    for field, fmt in _strings("dates", formats).items():
        if field not in columns:
            raise MappingError(f"[dates] {field} has a format but no column in [columns]")
        sample = dt.date(2001, 2, 3)
        try:
            ok = dt.datetime.strptime(sample.strftime(fmt), fmt).date() == sample
        except ValueError:
            ok = False
        if not ok:
            raise MappingError(
                f"[dates] {field}: {fmt!r} is not a strptime format of a whole date "
                "(day, month and year, for example %d/%m/%Y)"
            )
        checked[field] = fmt
    return checked


def _values(tables: dict[str, object], columns: dict[str, str]) -> dict[str, dict[str, str]]:
    maps: dict[str, dict[str, str]] = {}
    for field, table in tables.items():
        if field not in columns:
            raise MappingError(f"[values.{field}] translates a field with no column in [columns]")
        if not isinstance(table, dict):
            raise MappingError(f"[values.{field}] must be a table of local value = standard value")
        maps[field] = {}
        for local, standard in _value_pairs(field, table):
            if local.casefold() in maps[field]:
                raise MappingError(f"[values.{field}] lists {local!r} twice (case is ignored)")
            maps[field][local.casefold()] = standard
    return maps


def _value_pairs(field: str, table: dict[str, object]) -> Iterator[tuple[str, str]]:
    allowed = CODES.get(field)
    for local, standard in table.items():
        if not isinstance(standard, str):
            raise MappingError(f"[values.{field}] {local!r} must map to a string")
        if allowed is not None and standard not in allowed:
            raise MappingError(
                f"[values.{field}] {local!r} maps to {standard!r}, which is not one of "
                f"{', '.join(sorted(allowed))}"
            )
        yield " ".join(local.split()), standard
