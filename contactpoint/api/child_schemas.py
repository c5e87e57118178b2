"""What the practitioner journey's operations read and answer (contactpoint.api.children).

Unlike `contactpoint.api.schemas`, these carry child data, so each says exactly what one
view of a record holds and nothing more: a withheld record has no field for an address,
rather than an empty one. Identity fields carry their source and date in the full view
only: the name of a source (youth offending services, say) would tell a viewer with no
relationship which services know the child.
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic.config import JsonDict, JsonValue

from contactpoint.access.purposes import PURPOSES
from contactpoint.api.inputs import CalendarDate
from contactpoint.practice.models import FamilyNotice
from contactpoint.registry.models import Involvement

# Printable text only: a control character (NUL above all) is never part of a name or a
# phone number, and PostgreSQL refuses NUL in text outright.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def _one_of(values: Iterable[str]) -> JsonDict:
    # Documented, not enforced here: the service checks the value and says what is wrong
    # (400), as it does for the pages.
    listed: list[JsonValue] = list(values)
    return {"enum": listed}


class SearchIn(Schema):
    """The minimum criteria: family name, date of birth and a given name or a postcode (or
    its district); or an NHS number or a UPN with the date of birth."""

    purpose: str = Field(..., max_length=40, json_schema_extra=_one_of(PURPOSES))
    date_of_birth: CalendarDate
    family_name: str = Field("", max_length=100)
    given_name: str = Field("", max_length=100)
    postcode: str = Field("", max_length=10, description="A full postcode, or its district")
    nhs_number: str = Field("", max_length=16)
    upn: str = Field("", max_length=16)


class Candidate(Schema):
    cpid: str
    given_name: str
    family_name: str
    birth_year: int | None
    district: str | None = Field(..., description="None for a shielded child")


class SearchAnswer(Schema):
    candidates: list[Candidate] = Field(..., max_length=5)
    message: str | None = Field(..., description="Why no child is shown, when none is")


class SearchProblem(Schema):
    detail: str
    # Absent only when the body is not JSON at all.
    errors: dict[str, str] = Field(
        default_factory=dict,
        description="A message for each field that needs changing; `search`: what to add",
    )


class Value(Schema):
    value: str


class Shown(Schema):
    """A value, the source it came from, and the date it was true (full view only)."""

    value: str
    source: str
    as_at: dt.date | None


class WithheldRecord(Schema):
    """A shielded child, for anyone but the local index team of the child's area."""

    view: Literal["withheld"] = "withheld"
    cpid: str
    given_name: Value | None
    family_name: Value | None
    date_of_birth: Value | None
    sex: Value | None
    message: str


class IdentityRecord(Schema):
    """A child the client's organisation does not work with: who they are, and how many
    services are involved. Register an involvement to see them."""

    view: Literal["identity"] = "identity"
    cpid: str
    given_name: Value | None
    family_name: Value | None
    date_of_birth: Value | None
    sex: Value | None
    services_involved: int
    message: str


class OrganisationContact(Schema):
    name: str
    code: str
    phone: str
    email: str
    address: str


class PractitionerContact(Schema):
    name: str
    job_title: str
    phone: str
    email: str


class InvolvementOut(Schema):
    id: uuid.UUID
    mine: bool = Field(..., description="The client's own organisation's")
    sensitive: bool
    role: str
    organisation: OrganisationContact
    practitioner: PractitionerContact | None
    last_confirmed: dt.date | None
    stale: bool = Field(..., description="Not confirmed for a year: possibly out of date")
    lead: bool
    caf: bool
    kept_by: str = Field(..., description="The feed that keeps it current, or contactpoint")


class AdditionalService(Schema):
    """Another organisation's sensitive service: only that one is involved."""

    sensitive: Literal[True] = True
    mine: Literal[False] = False
    description: str


class CarerOut(Schema):
    relationship: str
    parental_responsibility: bool | None
    name: Shown | None
    phone: Shown | None
    email: Shown | None


class FullRecord(Schema):
    """A child the client's organisation works with, or a shielded child of the client's
    own area when the client is its local index team."""

    view: Literal["full"] = "full"
    cpid: str
    shielded: bool
    given_name: Shown | None
    family_name: Shown | None
    former_family_names: list[Shown]
    date_of_birth: Shown | None
    sex: Shown | None
    address: Shown | None
    postcode: Shown | None
    nhs_number: Shown | None
    upn: Shown | None
    carers: list[CarerOut]
    services_involved: int
    involvements: list[InvolvementOut | AdditionalService]
    lead: InvolvementOut | None = Field(..., description="The lead professional, if any")
    caf: bool = Field(..., description="A CAF / early-help assessment exists")


ChildRecord = Annotated[WithheldRecord | IdentityRecord | FullRecord, Field(discriminator="view")]


class NewInvolvement(Schema):
    """The client's organisation starts work with the child, for a practitioner who answers
    for it: an active user of the organisation whose role may register, named by the
    e-mail address they sign in with. Others will contact them (their name and e-mail from
    their account; the job title and phone given here)."""

    role: str = Field(
        ...,
        max_length=24,
        description="One the organisation's kind has (docs/practice.md)",
        json_schema_extra=_one_of(Involvement.Role.values),
    )
    practitioner: str = Field(
        ...,
        min_length=3,
        max_length=254,
        pattern=PRINTABLE,
        description="The sign-in e-mail of the practitioner this registration is for",
    )
    job_title: str = Field("", max_length=120, pattern=PRINTABLE)
    phone: str = Field("", max_length=30, pattern=PRINTABLE)
    sensitive_category: str | None = Field(
        None,
        max_length=20,
        description="Only for a sensitive service: "
        + ", ".join(Involvement.SensitiveCategory.values),
    )
    consent_basis: str | None = Field(
        None,
        max_length=24,
        description="Needed with a sensitive category: "
        + ", ".join(Involvement.ConsentBasis.values),
    )
    family_notice_risk: str | None = Field(
        None,
        max_length=20,
        description="Only when telling the family would put the child at risk (no family "
        "notice is then sent), why: " + ", ".join(FamilyNotice.Risk.values),
    )


class CafIn(Schema):
    exists: bool


class InvolvementState(Schema):
    """The client's own involvement, after a change."""

    id: uuid.UUID
    role: str
    last_confirmed: dt.date
    ended_on: dt.date | None
    lead: bool
    caf: bool
    sensitive_category: str | None
