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

from contactpoint.ingest.rows import FeedError, RowReader, SourceRow
from contactpoint.registry import feeds
from contactpoint.registry.feeds import Problem
from contactpoint.registry.sources import local_code_problem

REQUIRED = ("record_id", "family_name")
DATE_FIELDS = ("as_at", "date_of_birth", "involvement_start")
CONSTANT_FIELDS = ("as_at", "org_code", "org_role")
ISO_DATE = "%Y-%m-%d"
RULE_KEYS = ("blank_values", "upper")
TABLES: dict[str, tuple[str, ...]] = {
    "source": ("code", "name"),
    "csv": ("delimiter", "encoding"),
    "columns": feeds.COLUMNS,
    "identifiers": (),  # any name: each entry says its column and scheme
    "dates": DATE_FIELDS,
    "values": feeds.COLUMNS,
    "rules": ("blank_values", *feeds.COLUMNS),
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
# Fields a record does without: a value of one that cannot be translated (not in its value
# map, not a date in a declared format) leaves the field out with a note, not the row.
MAY_BE_LEFT_OUT = frozenset(
    {
        "given_name",
        "middle_names",
        "former_family_name",
        "date_of_birth",
        "sex",
        "address_line1",
        "address_line2",
        "town",
        "postcode",
        "involvement_start",
    }
)


class MappingError(FeedError):
    """The mapping file cannot be used (the message says where and why); nothing changed."""


@dataclass(frozen=True)
class Rule:
    """How a field's raw parts are cleaned before they are translated."""

    blank: frozenset[str] = frozenset()  # case-folded values that mean "not known"
    upper: bool = False

    def part(self, raw: str) -> str:
        value = " ".join(raw.split())
        return "" if value.casefold() in self.blank else value


@dataclass(frozen=True)
class Mapping:
    code: str  # "" when the mapping serves several sources (the code comes from --source)
    name: str  # "" likewise
    delimiter: str
    encoding: str
    columns: dict[str, tuple[str, ...]]  # standard field -> its columns, joined with a space
    identifiers: dict[str, tuple[str, ...]]  # identifier scheme -> its columns
    dates: dict[str, tuple[str, ...]]  # date field -> its strptime formats, tried in order
    values: dict[str, dict[str, str]]  # field -> local value (case-folded) -> standard value
    rules: dict[str, Rule]  # field (or identifier:SCHEME) -> how its parts are cleaned
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

    def _wanted(self) -> dict[str, str]:
        """Every column the mapping reads, with the field (or identifier) reading it."""
        wanted = {c: f for f, cs in self.columns.items() for c in cs}
        return wanted | {c: f"identifier {s}" for s, cs in self.identifiers.items() for c in cs}

    def header_index(self, file_name: str, header: list[str]) -> dict[str, int]:
        """Where each mapped column is; refuses a header without one, or with one twice."""
        names = [h.strip() for h in header]
        wanted = self._wanted()
        missing = [f"{c!r} ({f})" for c, f in wanted.items() if c not in names]
        if missing:
            raise FeedError(
                f"{file_name}: the header has no column {', '.join(missing)} named in the "
                f"mapping for source {self.code or 'CODE'!r}"
            )
        twice = [repr(c) for c in wanted if names.count(c) > 1]
        if twice:
            raise FeedError(f"{file_name}: the header has column {', '.join(twice)} twice")
        return {c: names.index(c) for c in wanted}

    def translate(self, values: dict[str, str]) -> tuple[dict[str, str], tuple[Problem, ...]]:
        """The standard row for one record's mapped columns, and what could not be translated.

        A local identifier goes in the row under `feeds.IDENTIFIER_PREFIX` and its scheme.
        """
        row = dict.fromkeys(feeds.COLUMNS, "") | self.constants
        problems = []
        for field, columns in self.columns.items():
            value = self._translated(field, self._joined(field, columns, values))
            if isinstance(value, Problem):
                problems.append(value)
            else:
                row[field] = value
        for scheme, columns in self.identifiers.items():
            key = feeds.IDENTIFIER_PREFIX + scheme
            row[key] = self._joined(key, columns, values)
        return row, tuple(problems)

    def _joined(self, field: str, columns: tuple[str, ...], values: dict[str, str]) -> str:
        """The field's columns, each cleaned by its rules, joined by a space (empty ones out)."""
        rule = self.rules.get(field, _NO_RULE)
        value = " ".join(p for c in columns if (p := rule.part(values[c])))
        return value.upper() if rule.upper else value

    def _translated(self, field: str, value: str) -> str | Problem:
        if value and field in self.values:
            if (code := self.values[field].get(value.casefold())) is None:
                return _problem(field, f"is not a value listed in [values.{field}]")
            value = code
        if value and field in DATE_FIELDS:
            formats = self.dates.get(field, (ISO_DATE,))
            if (day := _local_date(value, formats)) is None:
                return _problem(field, f"is not a date written {' or '.join(formats)}")
            value = day
        return value


_NO_RULE = Rule()


def _problem(field: str, reason: str) -> Problem:
    if field in MAY_BE_LEFT_OUT:
        return Problem(field, f"{reason}; ignored", rejects_row=False)
    return Problem(field, reason)


def _local_date(value: str, formats: tuple[str, ...]) -> str | None:
    """The date in ISO form, read with the first format that fits it; None if none does."""
    for fmt in formats:
        try:
            return dt.datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return None


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
    columns = _columns(doc.get("columns", {}))
    constants = _constants(doc.get("constants", {}), columns)
    _required(columns, constants)
    identifiers = _identifiers(doc.get("identifiers", {}))
    return Mapping(
        code=_code(source["code"]) if "code" in source else "",
        name=_text("[source] name", source["name"], 120) if "name" in source else "",
        delimiter=_delimiter(options.get("delimiter", ",")),
        encoding=_encoding(options.get("encoding", "utf-8-sig")),
        columns=columns,
        identifiers=identifiers,
        dates=_dates(doc.get("dates", {}), columns),
        values=_values(doc.get("values", {}), columns),
        rules=_rules(doc.get("rules", {}), columns, identifiers),
        constants=constants,
        digest=hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest(),
    )


def _known_keys(doc: dict[str, Any]) -> None:
    for key, table in doc.items():
        if key not in TABLES:
            raise MappingError(f"unknown table or key {key!r} (known: {', '.join(TABLES)})")
        if not isinstance(table, dict):
            raise MappingError(f"{key!r} must be a table, written [{key}]")
        unknown = [k for k in table if k not in TABLES[key] and key != "identifiers"]
        if unknown:
            fields_only = key in ("columns", "values", "rules")
            hint = "a standard field of docs/feeds.md" if fields_only else ""
            known = hint or ", ".join(TABLES[key])
            raise MappingError(f"[{key}] has unknown key {unknown[0]!r} (known: {known})")


def _text(where: str, value: object, longest: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{where} is missing or empty; it must be a string")
    if len(value) > longest:
        raise MappingError(f"{where} is longer than {longest} characters")
    return value.strip()


def _column_list(where: str, value: object) -> tuple[str, ...]:
    """One column, or a list of columns whose values are joined with a space."""
    if isinstance(value, list):
        if not value:
            raise MappingError(f"{where} is an empty list; name one column or more")
        return tuple(_text(f"{where}[{n}]", v, 200) for n, v in enumerate(value))
    return (_text(where, value, 200),)


def _columns(values: dict[str, object]) -> dict[str, tuple[str, ...]]:
    return {k: _column_list(f"[columns] {k}", v) for k, v in values.items()}


def _identifiers(table: dict[str, object]) -> dict[str, tuple[str, ...]]:
    """Each declared identifier's scheme and columns: `NAME = { column = ..., scheme = ... }`."""
    schemes: dict[str, tuple[str, ...]] = {}
    for name, entry in table.items():
        where = f"[identifiers] {name}"
        if not isinstance(entry, dict) or set(entry) != {"column", "scheme"}:
            raise MappingError(f'{where} must be {{ column = "...", scheme = "..." }}')
        scheme = _text(f"{where} scheme", entry["scheme"], 40)
        if not feeds.SCHEME.fullmatch(scheme):
            raise MappingError(
                f"{where} scheme must be 1 to 40 lower-case letters, digits or '-', "
                "starting with a letter or digit"
            )
        if scheme in schemes:
            raise MappingError(f"{where}: scheme {scheme!r} is declared twice")
        schemes[scheme] = _column_list(f"{where} column", entry["column"])
    return schemes


def _rules(
    table: dict[str, object],
    columns: dict[str, tuple[str, ...]],
    identifiers: dict[str, tuple[str, ...]],
) -> dict[str, Rule]:
    """Each field's cleaning: `blank_values` for every field, then `[rules.FIELD]`."""
    every = _blanks("[rules] blank_values", table.get("blank_values", []))
    rules = {f: Rule(every) for f in columns} if every else {}
    rules |= {feeds.IDENTIFIER_PREFIX + s: Rule(every) for s in identifiers if every}
    for field, entry in table.items():
        if field == "blank_values":
            continue
        where = f"[rules.{field}]"
        if field not in columns:
            raise MappingError(f"{where} cleans a field with no column in [columns]")
        if not isinstance(entry, dict) or not set(entry) <= set(RULE_KEYS):
            raise MappingError(f"{where} must be a table of {' and/or '.join(RULE_KEYS)}")
        upper = entry.get("upper", False)
        if not isinstance(upper, bool):
            raise MappingError(f"{where} upper must be true or false")
        own = _blanks(f"{where} blank_values", entry.get("blank_values", []))
        rules[field] = Rule(every | own, upper)
    return rules


def _blanks(where: str, values: object) -> frozenset[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise MappingError(f'{where} must be a list of non-empty strings, ["N/K", "UNKNOWN"]')
    return frozenset(" ".join(v.split()).casefold() for v in values)


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


def _required(columns: dict[str, tuple[str, ...]], constants: dict[str, str]) -> None:
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise MappingError(f"[columns] must map {', '.join(missing)}: every record needs it")
    if "as_at" not in columns and "as_at" not in constants:
        raise MappingError(
            "as_at needs a column in [columns] or a date in [constants] (the extract date)"
        )


def _constants(values: dict[str, object], columns: dict[str, tuple[str, ...]]) -> dict[str, str]:
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


def _dates(
    formats: dict[str, object], columns: dict[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """Each date field's formats: one, or a list tried in order (the first that fits)."""
    checked = {}
    for field, given in formats.items():
        if field not in columns:
            raise MappingError(f"[dates] {field} has a format but no column in [columns]")
        checked[field] = _column_list(f"[dates] {field}", given)
        for fmt in checked[field]:
            _whole_date(field, fmt)
    return checked


def _whole_date(field: str, fmt: str) -> None:
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


def _values(
    tables: dict[str, object], columns: dict[str, tuple[str, ...]]
) -> dict[str, dict[str, str]]:
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
