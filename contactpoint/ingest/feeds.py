"""The standard feed format (docs/feeds.md): parse and validate one row at a time.

Pure: no database. A row becomes a FeedRecord, or a list of problems naming the field and
the rule it broke. Messages never contain the value.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, fields
from typing import Any

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
    date_of_birth: dt.date
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

    def canonical(self) -> dict[str, object]:
        """A JSON-ready form with a stable key order, for the digest and the sealed payload."""
        # What dataclasses.asdict gives, without its deep copy of every value (hot in loads).
        doc: dict[str, object] = {f: getattr(self, f) for f in _FEED_FIELDS}
        doc["carers"] = [dict(vars(c)) for c in self.carers]
        doc["postcode"] = str(self.postcode) if self.postcode else None
        doc["as_at"] = self.as_at.isoformat()
        doc["date_of_birth"] = self.date_of_birth.isoformat()
        start = self.involvement_start
        doc["involvement_start"] = start.isoformat() if start else None
        return doc

    @classmethod
    def from_canonical(cls, doc: dict[str, Any]) -> FeedRecord:
        """The record again from its canonical form (a sealed payload, once opened)."""

        def day(key: str) -> dt.date | None:
            return dt.date.fromisoformat(doc[key]) if doc.get(key) else None

        values = {f.name: doc[f.name] for f in fields(cls)}
        values["as_at"], values["date_of_birth"] = day("as_at"), day("date_of_birth")
        values["involvement_start"] = day("involvement_start")
        values["postcode"] = parse_postcode(doc["postcode"]) if doc.get("postcode") else None
        values["carers"] = tuple(CarerRecord(**c) for c in doc.get("carers") or ())
        return cls(**values)


_FEED_FIELDS = tuple(f.name for f in fields(FeedRecord))


class RowParser:
    """Validates rows of one feed, collecting problems instead of stopping at the first."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.problems: list[Problem] = []

    def parse(self, row: dict[str, str]) -> FeedRecord | None:
        self.problems = []
        text = {k: self._text(k, row.get(k) or "") for k in COLUMNS}
        record = self._record(text)
        if any(p.rejects_row for p in self.problems):
            return None
        return record

    def _fail(self, column: str, reason: str, rejects_row: bool = True) -> None:
        self.problems.append(Problem(column, reason, rejects_row))

    def _text(self, column: str, raw: str) -> str:
        if not raw:
            return raw
        value = " ".join(raw.split())
        if len(value) > MAX_TEXT:
            self._fail(column, f"longer than {MAX_TEXT} characters")
        elif CONTROL.search(raw):
            self._fail(column, "contains control characters")
        return value

    def _record(self, t: dict[str, str]) -> FeedRecord:
        if not t["record_id"]:
            self._fail("record_id", "is empty")
        if not t["family_name"]:
            self._fail("family_name", "is empty")
        as_at = self._date("as_at", t["as_at"], required=True)
        birth = self._birth_date(t["date_of_birth"])
        if t["sex"] not in ("M", "F", "U", ""):
            self._fail("sex", "must be M, F, U or empty")
        if t["sensitive"] not in ("Y", "N", ""):
            self._fail("sensitive", "must be Y, N or empty")
        return FeedRecord(
            record_id=t["record_id"],
            as_at=as_at or self.today,
            given_name=t["given_name"],
            middle_names=t["middle_names"],
            family_name=t["family_name"],
            former_family_name=t["former_family_name"],
            date_of_birth=birth or self.today,
            sex=t["sex"],
            address_line1=t["address_line1"],
            address_line2=t["address_line2"],
            town=t["town"],
            postcode=self._postcode(t["postcode"]),
            nhs_number=self._nhs(t["nhs_number"]),
            upn=self._upn(t["upn"]),
            org_code=t["org_code"],
            org_role=self._org_role(t["org_code"], t["org_role"]),
            involvement_start=self._date("involvement_start", t["involvement_start"]),
            sensitive=t["sensitive"] == "Y",
            carers=self._carers(t),
        )

    def _date(self, column: str, value: str, required: bool = False) -> dt.date | None:
        if not value:
            if required:
                self._fail(column, "is empty")
            return None
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            self._fail(column, "must be a date written YYYY-MM-DD")
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self._fail(column, "is not a real date")
            return None

    def _birth_date(self, value: str) -> dt.date | None:
        birth = self._date("date_of_birth", value, required=True)
        if birth is None:
            return None
        if birth > self.today:
            self._fail("date_of_birth", "is in the future")
        elif birth < self.today.replace(year=self.today.year - OLDEST_CHILD_YEARS):
            self._fail("date_of_birth", f"is more than {OLDEST_CHILD_YEARS} years ago")
        return birth

    def _postcode(self, value: str) -> Postcode | None:
        if not value:
            return None
        try:
            return parse_postcode(value)
        except InvalidIdentifier as exc:
            self._fail("postcode", str(exc))
            return None

    def _nhs(self, value: str) -> str | None:
        if not value:
            return None
        if not re.fullmatch(r"\d{10}", normalise_nhs_number(value)):
            self._fail("nhs_number", "must be 10 digits")
            return None
        try:
            return validate_nhs_number(value)
        except InvalidIdentifier as exc:
            # A mistyped number is common and not a reason to lose the row; it is never used
            # as evidence either.
            self._fail("nhs_number", f"{exc}; ignored", rejects_row=False)
            return None

    def _upn(self, value: str) -> str | None:
        if not value:
            return None
        if not re.fullmatch(r"[A-Za-z]\d{11}[A-Za-z\d]", value):
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

    def _carers(self, t: dict[str, str]) -> tuple[CarerRecord, ...]:
        carers = []
        for n in (1, 2):
            c = {f: t[f"carer{n}_{f}"] for f in CARER_FIELDS}
            if not any(c.values()):
                continue
            if c["relationship"] not in RELATIONSHIPS:
                self._fail(f"carer{n}_relationship", "is not a known relationship")
            if c["parental_responsibility"] not in ("Y", "N", ""):
                self._fail(f"carer{n}_parental_responsibility", "must be Y, N or empty")
            if c["email"] and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", c["email"]):
                self._fail(f"carer{n}_email", "is not an e-mail address")
            responsibility = {"Y": True, "N": False}.get(c["parental_responsibility"])
            carers.append(
                CarerRecord(
                    c["given_name"],
                    c["family_name"],
                    c["relationship"],
                    responsibility,
                    c["phone"],
                    c["email"],
                )
            )
        return tuple(carers)
