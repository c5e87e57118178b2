"""What a practitioner must give before contactpoint searches, and nothing looser.

A search is one of:
  - family name, date of birth, and a given name or a postcode (full, or its district);
  - an NHS number or a UPN, with the date of birth.
Anything less is refused with a message saying what to add. There is no wildcard and no
listing: every name needs two letters, and a stated purpose from a fixed list is required.

Each front end (the web form, the API, later FHIR) builds an `Asked` from its own fields,
and `check` turns it into `Criteria`, the only thing the search service takes; a refusal's
errors are keyed by `Asked`'s field names, and each front end maps them back to its own.

Pure: no database, no I/O. Messages never repeat what was typed (it may be a child's data).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from contactpoint.access.purposes import PURPOSES
from contactpoint.lib.identifiers import (
    InvalidIdentifier,
    Postcode,
    parse_postcode,
    validate_nhs_number,
    validate_upn,
)

OLDEST_YEARS = 26  # archived at 18, or at 25 for care leavers and SEN (docs/retention.md)
WILDCARDS = re.compile(r"[*%?_\\\[\]]")
NAME = re.compile(r"^[^\W\d_]+(?:[ '\u2019.-][^\W\d_]+)*\.?$")
DISTRICT = re.compile(
    r"^[A-PR-UWYZ](?:[0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9]{1,2}|[A-HK-Y][0-9][ABEHMNPRVWXY])$"
)

# The fields a refusal names: `Asked`'s, and "search" for what to add.
Field = Literal[
    "purpose",
    "date_of_birth",
    "family_name",
    "given_name",
    "postcode",
    "nhs_number",
    "upn",
    "search",
]


@dataclass(frozen=True)
class DayMonthYear:
    """A date as typed in three boxes (a web form's), not yet known to be a date."""

    day: str = ""
    month: str = ""
    year: str = ""


@dataclass(frozen=True)
class Asked:
    """A search as asked, before any check: what a front end builds from its own fields.

    The date of birth is a date when the front end's own schema has parsed one already (the
    API), or the three parts as typed (the web form), checked here so that a missing part
    and an impossible date each get their own message.
    """

    purpose: str
    date_of_birth: dt.date | DayMonthYear
    family_name: str = ""
    given_name: str = ""
    postcode: str = ""  # a full postcode, or its district
    nhs_number: str = ""
    upn: str = ""


@dataclass(frozen=True)
class Criteria:
    """A search that meets the minimum criteria, normalised: built by `check`.

    Built directly, it still refuses an unknown purpose or less than the minimum (a
    programming error, so a ValueError that names no value).
    """

    purpose: str
    date_of_birth: dt.date
    family_name: str = ""
    given_name: str = ""
    postcode: Postcode | None = None  # a full postcode
    district: str = ""  # the outward code alone, or of the full postcode
    nhs_number: str = ""
    upn: str = ""

    def __post_init__(self) -> None:
        if self.purpose not in PURPOSES:
            raise ValueError("a search states one of the purposes")
        names = {"family_name": self.family_name, "given_name": self.given_name}
        if _missing(names, bool(self.district), self.by_identifier):
            raise ValueError("a search meets the minimum criteria")

    @property
    def by_identifier(self) -> bool:
        return bool(self.nhs_number or self.upn)


class Refused(Exception):
    """The search does not meet the minimum criteria; `errors` maps each field to a message."""

    def __init__(self, errors: dict[Field, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def check(asked: Asked, today: dt.date) -> Criteria:
    """The criteria of a search as asked, normalised, if it meets the minimum.

    Raises:
        Refused: with a message per field (named as in `Asked`), and under "search" what
            to add.
    """
    errors: dict[Field, str] = {}
    purpose = _text(asked.purpose)
    if purpose not in PURPOSES:
        errors["purpose"] = "Select why you are searching"
    born = _date_of_birth(asked.date_of_birth, today, errors)
    names = {
        "family_name": _name("family_name", _text(asked.family_name), errors),
        "given_name": _name("given_name", _text(asked.given_name), errors),
    }
    postcode, district = _postcode(_text(asked.postcode), errors)
    nhs = _identifier("nhs_number", _text(asked.nhs_number), validate_nhs_number, errors)
    upn = _identifier("upn", _text(asked.upn), validate_upn, errors)
    if not errors:
        missing = _missing(names, bool(district), bool(nhs or upn))
        if missing:
            errors["search"] = missing
    if errors or born is None:  # born is None only with an error for it
        raise Refused(errors)
    return Criteria(
        purpose, born, names["family_name"], names["given_name"], postcode, district, nhs, upn
    )


def _text(value: str) -> str:
    return " ".join(value.split())


def _missing(names: dict[str, str], has_place: bool, has_identifier: bool) -> str | None:
    if has_identifier:
        return None
    if not names["family_name"]:
        return "Add the child's family name, or an NHS number or UPN"
    if not (names["given_name"] or has_place):
        return "Add the child's given name or a postcode"
    return None


def _date_of_birth(
    asked: dt.date | DayMonthYear, today: dt.date, errors: dict[Field, str]
) -> dt.date | None:
    born = _typed_date(asked, errors) if isinstance(asked, DayMonthYear) else asked
    if born is None:
        return None
    if born > today:
        errors["date_of_birth"] = "Date of birth must be today or in the past"
    elif today.year - born.year > OLDEST_YEARS:
        errors["date_of_birth"] = (
            f"contactpoint holds children and young people up to {OLDEST_YEARS - 1}"
        )
    return born


def _typed_date(typed: DayMonthYear, errors: dict[Field, str]) -> dt.date | None:
    parts = [p.strip() for p in (typed.day, typed.month, typed.year)]
    if not all(parts):
        errors["date_of_birth"] = "Enter the child's date of birth, with a day, month and year"
        return None
    try:
        day, month, year = (int(p) for p in parts)
        return dt.date(year, month, day)
    except ValueError:
        errors["date_of_birth"] = "Date of birth must be a real date, for example 27 3 2015"
        return None


def _name(field: Literal["family_name", "given_name"], value: str, errors: dict[Field, str]) -> str:
    label = "Family name" if field == "family_name" else "Given name"
    if not value:
        return ""
    if WILDCARDS.search(value):
        errors[field] = f"{label} cannot contain wildcards: enter the whole name"
    elif sum(c.isalpha() for c in value) < 2 or not NAME.match(value):
        errors[field] = f"{label} must be a whole name of at least 2 letters"
    return value


def _postcode(value: str, errors: dict[Field, str]) -> tuple[Postcode | None, str]:
    if not value:
        return None, ""
    compact = value.replace(" ", "").upper()
    if DISTRICT.match(compact):
        return None, compact
    try:
        postcode = parse_postcode(value)
    except InvalidIdentifier:
        errors["postcode"] = "Enter a full postcode, like NW1 3AB, or its first part, like NW1"
        return None, ""
    return postcode, postcode.district


def _identifier(
    field: Literal["nhs_number", "upn"],
    value: str,
    validate: Callable[[str], str],
    errors: dict[Field, str],
) -> str:
    if not value:
        return ""
    try:
        return validate(value)
    except InvalidIdentifier:
        label = "NHS number" if field == "nhs_number" else "UPN"
        errors[field] = f"Enter a valid {label}: check it against the child's records"
        return ""
