"""What a practitioner must give before contactpoint searches, and nothing looser.

A search is one of:
  - family name, date of birth, and a given name or a postcode (full, or its district);
  - an NHS number or a UPN, with the date of birth.
Anything less is refused with a message saying what to add. There is no wildcard and no
listing: every name needs two letters, and a stated purpose from a fixed list is required.

Pure: no database, no I/O. Messages never repeat what was typed (it may be a child's data).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Criteria:
    """A search that meets the minimum criteria, normalised."""

    purpose: str
    date_of_birth: dt.date
    family_name: str = ""
    given_name: str = ""
    postcode: Postcode | None = None  # a full postcode
    district: str = ""  # the outward code alone, or of the full postcode
    nhs_number: str = ""
    upn: str = ""

    @property
    def by_identifier(self) -> bool:
        return bool(self.nhs_number or self.upn)


class Refused(Exception):
    """The search does not meet the minimum criteria; `errors` maps each field to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def parse(form: Mapping[str, str], today: dt.date) -> Criteria:
    """Check a search form (fields as in `Criteria`, the date as dob-day/-month/-year).

    Raises:
        Refused: with a message per field, and under "search" what to add.
    """
    errors: dict[str, str] = {}
    text = {k: " ".join(str(form.get(k, "")).split()) for k in _FIELDS}
    purpose = text["purpose"]
    if purpose not in PURPOSES:
        errors["purpose"] = "Select why you are searching"
    born = _date_of_birth(form, today, errors)
    names = {f: _name(f, text[f], errors) for f in ("family_name", "given_name")}
    postcode, district = _postcode(text["postcode"], errors)
    nhs = _identifier("nhs_number", text["nhs_number"], validate_nhs_number, errors)
    upn = _identifier("upn", text["upn"], validate_upn, errors)
    if not errors:
        missing = _missing(names, bool(district), bool(nhs or upn))
        if missing:
            errors["search"] = missing
    if errors or born is None:  # born is None only with an error for it
        raise Refused(errors)
    return Criteria(
        purpose, born, names["family_name"], names["given_name"], postcode, district, nhs, upn
    )


_FIELDS = ("purpose", "family_name", "given_name", "postcode", "nhs_number", "upn")


def _missing(names: dict[str, str], has_place: bool, has_identifier: bool) -> str | None:
    if has_identifier:
        return None
    if not names["family_name"]:
        return "Add the child's family name, or an NHS number or UPN"
    if not (names["given_name"] or has_place):
        return "Add the child's given name or a postcode"
    return None


def _date_of_birth(
    form: Mapping[str, str], today: dt.date, errors: dict[str, str]
) -> dt.date | None:
    parts = [str(form.get(f"dob-{p}", "")).strip() for p in ("day", "month", "year")]
    if not all(parts):
        errors["dob"] = "Enter the child's date of birth, with a day, month and year"
        return None
    try:
        day, month, year = (int(p) for p in parts)
        born = dt.date(year, month, day)
    except ValueError:
        errors["dob"] = "Date of birth must be a real date, for example 27 3 2015"
        return None
    if born > today:
        errors["dob"] = "Date of birth must be today or in the past"
    elif today.year - born.year > OLDEST_YEARS:
        errors["dob"] = f"contactpoint holds children and young people up to {OLDEST_YEARS - 1}"
    return born


def _name(field: str, value: str, errors: dict[str, str]) -> str:
    label = "Family name" if field == "family_name" else "Given name"
    if not value:
        return ""
    if WILDCARDS.search(value):
        errors[field] = f"{label} cannot contain wildcards: enter the whole name"
    elif sum(c.isalpha() for c in value) < 2 or not NAME.match(value):
        errors[field] = f"{label} must be a whole name of at least 2 letters"
    return value


def _postcode(value: str, errors: dict[str, str]) -> tuple[Postcode | None, str]:
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


def _identifier(field: str, value: str, check: Callable[[str], str], errors: dict[str, str]) -> str:
    if not value:
        return ""
    try:
        return check(value)
    except InvalidIdentifier:
        label = "NHS number" if field == "nhs_number" else "UPN"
        errors[field] = f"Enter a valid {label}: check it against the child's records"
        return ""
