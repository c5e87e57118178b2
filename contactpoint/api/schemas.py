"""What the API reads and answers, as published in its OpenAPI document.

No schema carries a password, a password hash, a second-factor device or child data.
"""

import datetime as dt
import uuid

from ninja import Field, Schema

from contactpoint.access.permissions import Permission, Role
from contactpoint.api.inputs import CalendarDate


class Problem(Schema):
    detail: str


class TokenAnswer(Schema):
    """RFC 6749 section 5.1."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 (the scheme's name, not a secret)
    expires_in: int


class TokenProblem(Schema):
    """RFC 6749 section 5.2."""

    error: str
    error_description: str


class Account(Schema):
    client_id: str
    name: str
    organisation_code: str
    organisation_name: str
    role: Role
    permissions: list[Permission]


class UserOut(Schema):
    id: uuid.UUID
    email: str
    name: str
    organisation_code: str
    role: Role
    enabled: bool
    suspensions: list[str]


class UserPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[UserOut]


class PageQuery(Schema):
    limit: int = Field(50, ge=1, le=100)
    # Bounded: an offset past a 64-bit integer made the database fail (found by schemathesis).
    offset: int = Field(0, ge=0, le=10_000_000)


class AccreditationIn(Schema):
    expires_on: CalendarDate
    withdrawn: bool = False


class AccreditationOut(Schema):
    organisation_code: str
    status: str
    expires_on: dt.date
