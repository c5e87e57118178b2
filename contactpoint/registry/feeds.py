"""The standard feed format (docs/feeds.md): parse and validate one row at a time.

Pure: no database. A row becomes a FeedRecord, or a list of problems naming the field and
the rule it broke. Messages never contain the value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

from contactpoint.lib.identifiers import (
    InvalidIdentifier,
    Postcode,
    normalise_nhs_number,
    parse_postcode,
    validate_nhs_number,
    validate_upn,
)

# In load order: the NHS feed first, so other feeds find children by NHS number.
SOURCES = (
    "nhs_demographics",
    "school_census",
    "council_social_care",
    "youth_offending",
    "child_benefit",
)
CARER_FIELDS = (
    "given_name",
    "family_name",
    "relationship",
    "parental_responsibility",
    "phone",
    "email",
)
COLUMNS = (
    "record_id",
    "as_at",
    "given_name",
    "middle_names",
    "family_name",
    "former_family_name",
    "date_of_birth",
    "sex",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "nhs_number",
    "upn",
    "org_code",
    "org_role",
    "involvement_start",
    "sensitive",
    *(f"carer{n}_{f}" for n in (1, 2) for f in CARER_FIELDS),
)
ORGANISATION_COLUMNS = (
    "code",
    "kind",
    "name",
    "council_area_code",
    "council_area_name",
    "address_line1",
    "town",
    "postcode",
    "phone",
    "email",
)
RELATIONSHIPS = frozenset(
    {
        "mother",
        "father",
        "step_parent",
        "grandparent",
        "foster_carer",
        "special_guardian",
        "adoptive_parent",
        "other_relative",
        "other",
    }
)
ORG_ROLES = frozenset({"school", "gp", "social_worker", "youth_offending_worker"})
OLDEST_CHILD_YEARS = 26  # in scope to 25 for care leavers and young people with SEN
MAX_TEXT = 100
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # below space, but tab, CR and LF
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TEN_DIGITS = re.compile(r"\d{10}")
_UPN_SHAPE = re.compile(r"[A-Za-z]\d{11}[A-Za-z\d]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_YES_NO = {"Y": True, "N": False}
# A local identifier travels in a row under this prefix and its scheme's name (mapping.py).
IDENTIFIER_PREFIX = "identifier:"
SCHEME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")

_P = ParamSpec("_P")
_T = TypeVar("_T")


def source_files(folder: Path) -> list[tuple[str, Path]]:
    """The feed files of a folder, in load order: the NHS feed first, then the rest."""
    found: list[tuple[str, Path]] = []
    for code in SOURCES:
        if (folder / code).is_dir():
            found += [(code, p) for p in sorted((folder / code).glob("*.csv"))]
        elif (folder / f"{code}.csv").is_file():
            found.append((code, folder / f"{code}.csv"))
    return found


def fast_constructor(cls: Callable[_P, _T]) -> Callable[_P, _T]:
    """A frozen dataclass's constructor, for calls that give every field by keyword, in order.

    Builds the same instance without the `object.__setattr__` per field that makes a frozen
    dataclass's `__init__` slow (a tenth of parsing a feed row). A field left out, which
    would take its default in `__init__`, is an error here.
    """
    kind = cast("type[Any]", cls)
    names = [f.name for f in fields(kind)]
    if hasattr(kind, "__post_init__") or hasattr(kind, "__slots__"):
        raise TypeError(f"{kind.__name__} needs its own __init__")
    new = object.__new__

    def construct(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        instance: _T = new(kind)
        values = vars(instance)
        values.update(kwargs)
        if args or list(values) != names:
            raise TypeError(f"{kind.__name__}: give every field by keyword, in order")
        return instance

    return construct


@dataclass(frozen=True)
class Problem:
    field: str
    reason: str
    rejects_row: bool = True


@dataclass(frozen=True)
class CarerRecord:
    given_name: str
    family_name: str
    relationship: str
    parental_responsibility: bool | None
    phone: str
    email: str


@dataclass(frozen=True)
class FeedRecord:
    record_id: str
    as_at: dt.date
    given_name: str
    middle_names: str
    family_name: str
    former_family_name: str
    date_of_birth: dt.date | None  # None: missing or unusable in the source (a field note)
    sex: str
    address_line1: str
    address_line2: str
    town: str
    postcode: Postcode | None
    nhs_number: str | None
    upn: str | None
    org_code: str
    org_role: str
    involvement_start: dt.date | None
    sensitive: bool
    carers: tuple[CarerRecord, ...] = field(default=())
    # Local identifiers a mapping declares: (scheme, value) pairs, sorted by scheme.
    identifiers: tuple[tuple[str, str], ...] = field(default=())

    def canonical(self) -> dict[str, object]:
        """A JSON-ready form with a stable key order, for the digest and the sealed payload."""
        # What dataclasses.asdict gives, without its deep copy of every value (hot in loads).
        # The instance's own dict holds the fields, in order (__init__ sets only those).
        doc: dict[str, object] = dict(vars(self))
        if len(doc) != len(_FEED_FIELDS):
            raise TypeError("FeedRecord holds attributes that are not fields")
        doc["carers"] = [dict(vars(c)) for c in self.carers]
        doc["postcode"] = str(self.postcode) if self.postcode else None
        doc["as_at"] = self.as_at.isoformat()
        birth, start = self.date_of_birth, self.involvement_start
        doc["date_of_birth"] = birth.isoformat() if birth else None
        doc["involvement_start"] = start.isoformat() if start else None
        # Only when there are some, so a record without any keeps its digest and payload.
        if self.identifiers:
            doc["identifiers"] = dict(self.identifiers)
        else:
            del doc["identifiers"]
        return doc

    @classmethod
    def from_canonical(cls, doc: dict[str, Any]) -> FeedRecord:
        """The record again from its canonical form (a sealed payload, once opened).

        Every field is read by name (a missing one raises KeyError, a carer of another
        shape TypeError), and the instance built as `_new_feed_record` builds it: this runs
        for every record a bulk load writes."""
        # Every field but the last, `identifiers`, which a record without any leaves out.
        values = {name: doc[name] for name in _FEED_FIELDS[:-1]}
        as_at, birth, start = values["as_at"], values["date_of_birth"], values["involvement_start"]
        values["as_at"] = _iso_day(as_at) if as_at else None
        values["date_of_birth"] = _iso_day(birth) if birth else None
        values["involvement_start"] = _iso_day(start) if start else None
        postcode = values["postcode"]
        values["postcode"] = _canonical_postcode(postcode) if postcode else None
        values["carers"] = tuple(_carer(c) for c in values["carers"] or ())
        values["identifiers"] = tuple(sorted((doc.get("identifiers") or {}).items()))
        return _new_feed_record(**values)


_FEED_FIELDS = tuple(f.name for f in fields(FeedRecord))
_new_feed_record = fast_constructor(FeedRecord)
_new_carer_record = fast_constructor(CarerRecord)
_CARERS = len(CARER_FIELDS)
_EMPTY = ("",) * len(COLUMNS)


class RowParser:
    """Validates rows of one feed, collecting problems instead of stopping at the first."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.problems: list[Problem] = []

    def parse(self, row: Mapping[str, str]) -> FeedRecord | None:
        values = list(map(row.get, COLUMNS, _EMPTY))
        if None in values:  # a None where a string belongs counts as empty, as a missing one
            values = [v or "" for v in values]
        record = self.parse_values(values)
        if record is not None and len(row) > len(COLUMNS):  # a mapping's identifiers
            identifiers = self._identifiers(row)
            if identifiers:
                record = dataclasses.replace(record, identifiers=identifiers)
        return record

    def _identifiers(self, row: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        """The row's local identifiers (keys `identifier:SCHEME`): tidied, empty ones left
        out, and one that cannot be a value left out with a field note."""
        found = []
        for key, raw in row.items():
            if not key.startswith(IDENTIFIER_PREFIX) or not raw:
                continue
            scheme, value = key[len(IDENTIFIER_PREFIX) :], " ".join(raw.split())
            if len(value) > MAX_TEXT or CONTROL.search(raw):
                self._fail(key, "is too long or holds control characters; ignored", False)
            elif value:
                found.append((scheme, value))
        return tuple(sorted(found))

    def parse_values(self, values: Sequence[str]) -> FeedRecord | None:
        """parse for a row given as its values in COLUMNS order, as a feed file holds it."""
        self.problems = []
        record = self._record(self._texts(values))
        if any(p.rejects_row for p in self.problems):
            return None
        return record

    def _fail(self, column: str, reason: str, rejects_row: bool = True) -> None:
        self.problems.append(Problem(column, reason, rejects_row))

    def _texts(self, values: Sequence[str]) -> Sequence[str]:
        """Each value as `_text` gives it, looking at the whole row at once: most rows have
        nothing to report and nothing to tidy."""
        row = "|".join(values)
        # Printable means no control character and no whitespace but the space; with no
        # space doubled or at either end of a value, every value is already tidy.
        if (
            row.isprintable()
            and "  " not in row
            and " |" not in row
            and "| " not in row
            and not row.startswith(" ")
            and not row.endswith(" ")
            and max(map(len, values)) <= MAX_TEXT
        ):
            return values
        if CONTROL.search(row) or max(map(len, values)) > MAX_TEXT:
            return [self._text(c, v) for c, v in zip(COLUMNS, values, strict=True)]
        return [" ".join(v.split()) for v in values]

    def _text(self, column: str, raw: str) -> str:
        if not raw:
            return raw
        value = " ".join(raw.split())
        if len(value) > MAX_TEXT:
            self._fail(column, f"longer than {MAX_TEXT} characters")
        elif CONTROL.search(raw):
            self._fail(column, "contains control characters")
        return value

    def _record(self, t: Sequence[str]) -> FeedRecord:
        # The values named in COLUMNS order (a dict of them would cost a tenth of the row).
        (
            record_id,
            as_at,
            given_name,
            middle_names,
            family_name,
            former_family_name,
            date_of_birth,
            sex,
            address_line1,
            address_line2,
            town,
            postcode,
            nhs_number,
            upn,
            org_code,
            org_role,
            involvement_start,
            sensitive,
            *carers,
        ) = t
        if not record_id:
            self._fail("record_id", "is empty")
        if not family_name:
            self._fail("family_name", "is empty")
        if not given_name:
            self._fail("given_name", "is empty; loaded without it", rejects_row=False)
        as_at_day = self._date("as_at", as_at, required=True)
        birth = self._birth_date(date_of_birth)
        if sex not in ("M", "F", "U", ""):
            self._fail("sex", "must be M, F, U or empty")
        if sensitive not in ("Y", "N", ""):
            self._fail("sensitive", "must be Y, N or empty")
        return _new_feed_record(
            record_id=record_id,
            as_at=as_at_day or self.today,
            given_name=given_name,
            middle_names=middle_names,
            family_name=family_name,
            former_family_name=former_family_name,
            date_of_birth=birth,
            sex=sex,
            address_line1=address_line1,
            address_line2=address_line2,
            town=town,
            postcode=self._postcode(postcode),
            nhs_number=self._nhs(nhs_number),
            upn=self._upn(upn),
            org_code=org_code,
            org_role=self._org_role(org_code, org_role),
            involvement_start=self._date("involvement_start", involvement_start),
            sensitive=sensitive == "Y",
            carers=self._carers(carers),
            identifiers=(),
        )

    def _date(self, column: str, value: str, required: bool = False) -> dt.date | None:
        if not value:
            if required:
                self._fail(column, "is empty")
            return None
        day = _read_date(value)
        if isinstance(day, str):
            self._fail(column, day)
            return None
        return day

    def _birth_date(self, value: str) -> dt.date | None:
        """The date of birth, or None with a field note: the record loads without it (it
        can still be matched on its other fields, but never founds a child on its own)."""
        if not value:
            self._fail("date_of_birth", "is empty; loaded without it", rejects_row=False)
            return None
        birth = _read_date(value)
        if isinstance(birth, str):
            reason = birth
        elif birth > self.today:
            reason = "is in the future"
        elif birth < _oldest_birth(self.today):
            reason = f"is more than {OLDEST_CHILD_YEARS} years ago"
        else:
            return birth
        self._fail("date_of_birth", f"{reason}; ignored", rejects_row=False)
        return None

    def _postcode(self, value: str) -> Postcode | None:
        """The postcode, or None: one that is not a UK postcode is left out with a note."""
        if not value:
            return None
        postcode = _read_postcode(value)
        if isinstance(postcode, str):
            self._fail("postcode", f"{postcode}; ignored", rejects_row=False)
            return None
        return postcode

    def _nhs(self, value: str) -> str | None:
        if not value:
            return None
        number = normalise_nhs_number(value)
        if not _TEN_DIGITS.fullmatch(number):
            self._fail("nhs_number", "must be 10 digits")
            return None
        try:
            return validate_nhs_number(number)  # the same as of value: normalising is idempotent
        except InvalidIdentifier as exc:
            # A mistyped number is common and not a reason to lose the row; it is never used
            # as evidence either.
            self._fail("nhs_number", f"{exc}; ignored", rejects_row=False)
            return None

    def _upn(self, value: str) -> str | None:
        if not value:
            return None
        if not _UPN_SHAPE.fullmatch(value):
            self._fail("upn", "must be a letter, 11 digits and a digit or letter")
            return None
        try:
            return validate_upn(value)
        except InvalidIdentifier as exc:
            self._fail("upn", f"{exc}; ignored", rejects_row=False)
            return None

    def _org_role(self, org_code: str, role: str) -> str:
        if bool(org_code) != bool(role):
            self._fail("org_role", "org_code and org_role come together or not at all")
        elif role and role not in ORG_ROLES:
            self._fail("org_role", "is not a known role")
        return role

    def _carers(self, values: Sequence[str]) -> tuple[CarerRecord, ...]:
        """The carers in the carer1_ and carer2_ columns' values (CARER_FIELDS each)."""
        carers = []
        for n in (1, 2):
            carer = values[(n - 1) * _CARERS : n * _CARERS]
            if not any(carer):
                continue
            given, family, relationship, responsibility, phone, email = carer
            if relationship not in RELATIONSHIPS:
                self._fail(f"carer{n}_relationship", "is not a known relationship")
            if responsibility not in ("Y", "N", ""):
                self._fail(f"carer{n}_parental_responsibility", "must be Y, N or empty")
            if email and not _EMAIL.fullmatch(email):
                self._fail(f"carer{n}_email", "is not an e-mail address")
            carers.append(
                _new_carer_record(
                    given_name=given,
                    family_name=family,
                    relationship=relationship,
                    parental_responsibility=_YES_NO.get(responsibility),
                    phone=phone,
                    email=email,
                )
            )
        return tuple(carers)


# Dates, postcodes and the cut-off for a birth date repeat from row to row: work each out once.


@functools.lru_cache(maxsize=1 << 15)
def _read_date(value: str) -> dt.date | str:
    """The date written YYYY-MM-DD, or why the text is not one."""
    if not _DATE.fullmatch(value):
        return "must be a date written YYYY-MM-DD"
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return "is not a real date"


@functools.lru_cache(maxsize=1 << 17)
def _read_postcode(value: str) -> Postcode | str:
    """The postcode, or why the text is not one."""
    try:
        return parse_postcode(value)
    except InvalidIdentifier as exc:
        return str(exc)


@functools.lru_cache(maxsize=1 << 15)
def _iso_day(value: str) -> dt.date:
    """A canonical form's date (ValueError: not one)."""
    return dt.date.fromisoformat(value)


@functools.lru_cache(maxsize=1 << 17)
def _canonical_postcode(value: str) -> Postcode:
    """A canonical form's postcode (InvalidIdentifier: not one)."""
    return parse_postcode(value)


def _carer(values: dict[str, Any]) -> CarerRecord:
    """A carer of a canonical form, which names every field and no other."""
    if len(values) != _CARERS:
        raise TypeError(f"a carer of {len(values)} fields, not {_CARERS}")
    return _new_carer_record(
        given_name=values["given_name"],
        family_name=values["family_name"],
        relationship=values["relationship"],
        parental_responsibility=values["parental_responsibility"],
        phone=values["phone"],
        email=values["email"],
    )


@functools.lru_cache(maxsize=8)
def _oldest_birth(today: dt.date) -> dt.date:
    return today.replace(year=today.year - OLDEST_CHILD_YEARS)
