"""Reading the user-management forms: plain checks over the posted fields, no database.

Each field that is wrong gets one message, keyed by the id of the input the error summary
links to (a GOV.UK date input links to its day field).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import TypeVar

from django.http import QueryDict

T = TypeVar("T")


class When(enum.Enum):
    PAST = "today or in the past"
    FUTURE = "today or in the future"


class Reader:
    """Read posted fields, gathering a message for each one that is wrong."""

    def __init__(self, data: QueryDict, today: dt.date | None = None) -> None:
        self.data = data
        self.today = today or dt.date.today()
        self.errors: dict[str, str] = {}

    def text(self, name: str, missing: str) -> str:
        value = (self.data.get(name) or "").strip()
        if not value:
            self.errors[name] = missing
        return value

    def choice(self, name: str, choices: Mapping[str, T], missing: str) -> T | None:
        value = choices.get(self.data.get(name) or "")
        if value is None:
            self.errors[name] = missing
        return value

    def date(self, name: str, label: str, when: When) -> dt.date | None:
        """A GOV.UK date input: fields `<name>-day`, `-month` and `-year`."""
        parts = [(self.data.get(f"{name}-{p}") or "").strip() for p in ("day", "month", "year")]
        key = f"{name}-day"
        if not all(parts):
            self.errors[key] = f"Enter the {label.lower()} as a day, month and year"
            return None
        try:
            day, month, year = (int(p) for p in parts)
            value = dt.date(year, month, day)
        except ValueError:
            self.errors[key] = f"{label} must be a real date"
            return None
        if year < 1900:
            self.errors[key] = f"{label} must include a 4-digit year"
            return None
        wrong = value > self.today if when is When.PAST else value < self.today
        if wrong:
            self.errors[key] = f"{label} must be {when.value}"
            return None
        return value
