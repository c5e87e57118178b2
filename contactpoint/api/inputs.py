"""How the API reads what a client sends: JSON bodies only as JSON, and dates only as dates.

Pydantic is lenient by design, and the API must not be. Left to itself it reads `0` or
`"0"` as a Unix time (1 January 1970) and accepts year 0002, so an accreditation could be
made to expire in 1970 or in the second century. A date here is written `YYYY-MM-DD` and
falls between `FIRST_YEAR` and `LAST_YEAR`; anything else answers 422, naming the field.

Ninja parses any body as JSON, whatever its `Content-Type`; a body sent as `text/plain`
(which a browser may send cross-site without asking first) is refused with 415 instead.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from django.http import HttpRequest
from ninja.parser import Parser
from ninja.types import DictStrAny
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from contactpoint.lib.errors import Refusal

# No child on the index, no accreditation and no vetting date falls outside these years.
FIRST_YEAR = 1900
LAST_YEAR = 2199
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
JSON_TYPES = ("application/json",)
NOT_JSON = "send the body as JSON, with the header Content-Type: application/json"


def _calendar_date(value: Any) -> dt.date:
    """A date written YYYY-MM-DD (never a number or a timestamp) within the years."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        written = value.isoformat()
    elif isinstance(value, str) and _ISO_DATE.fullmatch(value):
        written = value
    else:
        raise PydanticCustomError("date_format", "must be a date written YYYY-MM-DD")
    try:
        date = dt.date.fromisoformat(written)
    except ValueError:
        raise PydanticCustomError("date_real", "must be a real date, written YYYY-MM-DD") from None
    if not FIRST_YEAR <= date.year <= LAST_YEAR:
        raise PydanticCustomError(
            "date_range",
            "must be a date from {first} to {last}",
            {"first": FIRST_YEAR, "last": LAST_YEAR},
        )
    return date


CalendarDate = Annotated[
    dt.date,
    BeforeValidator(_calendar_date),
    Field(
        description=f"A date, YYYY-MM-DD, in the years {FIRST_YEAR} to {LAST_YEAR}",
        json_schema_extra={"pattern": r"^\d{4}-\d{2}-\d{2}$"},
    ),
]


class UnsupportedMediaType(Refusal):
    """Send the body as JSON, with the header Content-Type: application/json."""


def is_json(content_type: str) -> bool:
    """`application/json` or a `+json` type (parameters such as charset aside)."""
    main = content_type.split(";", 1)[0].strip().lower()
    return main in JSON_TYPES or (main.startswith("application/") and main.endswith("+json"))


class JsonOnly(Parser):
    """Ninja's JSON parser, for bodies that say they are JSON only."""

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        if not is_json(request.META.get("CONTENT_TYPE", "")):
            raise UnsupportedMediaType(NOT_JSON)
        return super().parse_body(request)
