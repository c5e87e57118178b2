"""How long each web form field may be, checked before any view does any work.

The API's schemas bound every field (contactpoint/api/child_schemas.py); the web forms
read the same things from posted fields, so the same bounds hold here, by field name,
with a short default for the choices, ids and flags every other field holds. A field
over its bound is refused whole (400), never cut short: a cut note or name would be
stored as if it had been meant.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.http import QueryDict

FREE_TEXT = 4000  # an explanation, a note, a reason: a few paragraphs
PASSWORD = 1024
DEFAULT = 100  # a choice, an id, a flag, a number

LIMITS: dict[str, int] = {
    # as the API's search and involvement schemas
    "purpose": 40,
    "given_name": 100,
    "family_name": 100,
    "postcode": 10,
    "district": 10,
    "nhs_number": 16,
    "upn": 16,
    "role": 24,
    "name": 120,
    "job_title": 120,
    "phone": 30,
    "email": 254,
    "sensitive_category": 20,
    "consent_basis": 24,
    "notice_at_risk": 20,
    # the web's own
    "value": 200,  # a correction asked for (contactpoint.practice.families.rectification.MAX_VALUE)
    "code": 16,
    "csrfmiddlewaretoken": 64,
    "next": 2000,
    "explanation": FREE_TEXT,
    "note": FREE_TEXT,
    "reason": FREE_TEXT,
    "why": FREE_TEXT,
    "password": PASSWORD,
    "current_password": PASSWORD,
    "new_password": PASSWORD,
    "confirm_password": PASSWORD,
}
# A GOV.UK date input's parts (`<name>-day`, `-month`, `-year`).
DATE_PARTS = ("-day", "-month", "-year")
DATE_PART = 4


def limit_of(field: str) -> int:
    if field.endswith(DATE_PARTS):
        return DATE_PART
    return LIMITS.get(field, DEFAULT)


def too_long(*fields: QueryDict) -> Iterator[tuple[str, int]]:
    """Each field (name, bound) holding a value longer than its bound."""
    for data in fields:
        for name, values in data.lists():
            bound = limit_of(name)
            if len(name) > DEFAULT or any(len(v) > bound for v in values):
                yield name[:DEFAULT], bound
