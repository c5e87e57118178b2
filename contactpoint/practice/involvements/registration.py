"""Who may register an involvement, as what, and how many a day (docs/practice.md).

Registering is how a practitioner earns a child's contacts (address, NHS number, carers),
so it is held to three checks before anything is written:

- the role declared must be one the organisation's kind has (`ROLES_BY_KIND`): a school
  cannot declare itself the child's GP or social worker;
- a person answers for it: a user registers for themselves; an API client names the
  practitioner it acts for, an active user of its own organisation whose role may register;
- a day's new involvements are limited per person and per organisation, counted in the
  database's throttle counters (as searches are, `contactpoint.access.throttle`), never
  by reading involvement rows. A refusal is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.conf import settings

from contactpoint.access import throttle
from contactpoint.access.models import User
from contactpoint.access.permissions import Permission, decide
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.lib.errors import Refusal
from contactpoint.registry.models import Involvement, Organisation

R, K = Involvement.Role, Organisation.Kind

# The roles a practitioner of each kind of organisation may declare. Written once here;
# the register form offers these only, and the service refuses any other.
ROLES_BY_KIND: Mapping[str, frozenset[str]] = {
    K.SCHOOL: frozenset({R.SCHOOL, R.SCHOOL_NURSE, R.EARLY_HELP}),
    K.GP_PRACTICE: frozenset({R.GP, R.HEALTH_SERVICE}),
    # Councils run social care and early help, and commission or run public health
    # nursing and services (sexual health, substance misuse).
    K.COUNCIL_TEAM: frozenset(
        {R.SOCIAL_WORKER, R.EARLY_HELP, R.HEALTH_VISITOR, R.SCHOOL_NURSE, R.HEALTH_SERVICE}
    ),
    K.NHS_TRUST: frozenset({R.HEALTH_VISITOR, R.SCHOOL_NURSE, R.HEALTH_SERVICE}),
    K.POLICE_CPU: frozenset({R.POLICE_CPU}),
    K.YOUTH_OFFENDING_TEAM: frozenset({R.YOUTH_OFFENDING_WORKER}),
    K.VOLUNTARY_ORG: frozenset({R.VOLUNTARY_SUPPORT, R.EARLY_HELP, R.HEALTH_SERVICE}),
}

_DAY = dt.timedelta(days=1)
NAME_THE_PRACTITIONER = (
    "Name the practitioner this registration is for: the e-mail address they sign in with"
)
NOT_OURS = "The practitioner named is not a user of your organisation"
MAY_NOT = (
    "The practitioner named may not register an involvement: their account is not active "
    "or their role does not allow it"
)


LIMIT_REACHED = (
    "The daily limit on new involvements is reached, the practitioner's or the "
    "organisation's: try again tomorrow, or ask the local index team if the work needs more"
)


class RegistrationLimit(Refusal):
    """The day's new involvements are used up (the message says so: LIMIT_REACHED)."""

    def __init__(self) -> None:
        super().__init__(LIMIT_REACHED)


class RoleNotAllowed(Invalid):
    """The role declared is not one the organisation's kind has."""


def roles_for(kind: str) -> list[tuple[str, str]]:
    """The (value, label) choices a practitioner of an organisation of `kind` may declare."""
    allowed = ROLES_BY_KIND.get(kind, frozenset())
    return [(value, label) for value, label in Involvement.Role.choices if value in allowed]


def check_role(kind: str, role: str) -> None:
    """Raises RoleNotAllowed when `role` is not one an organisation of `kind` has."""
    if role in ROLES_BY_KIND.get(kind, frozenset()):
        return
    names = ", ".join(label.lower() for _, label in roles_for(kind)) or "none"
    kind_label = Organisation.Kind(kind).label if kind in K.values else "your organisation"
    raise RoleNotAllowed(f"A {kind_label.lower()} may register only as: {names}")


def person_for(actor: Actor, named: str) -> User:
    """The user who answers for a registration: the signed-in user, or the practitioner an
    API client names (by sign-in e-mail), who must be an active user of the client's
    organisation whose role may register.

    Raises:
        Invalid: a client named no one.
        Refused: the person named is not the organisation's, or may not register.
    """
    if actor.user is not None:
        return actor.user
    email = named.strip().lower()
    if not email:
        raise Invalid(NAME_THE_PRACTITIONER)
    user = (
        User.objects.select_related("organisation__accreditation")
        .filter(email=email, organisation_id=actor.principal.organisation_id)
        .first()
    )
    if user is None:
        raise Refused(NOT_OURS)
    if not decide(user.principal(second_factor=True), Permission.CHILD_INVOLVEMENT_REGISTER):
        raise Refused(MAY_NOT)
    return user


def limits() -> tuple[throttle.Limit, throttle.Limit]:
    """The day's limits on new involvements: per person, per organisation."""
    return (
        throttle.Limit("register-user-day", settings.CONTACTPOINT_REGISTRATIONS_PER_USER, _DAY),
        throttle.Limit(
            "register-organisation-day", settings.CONTACTPOINT_REGISTRATIONS_PER_ORGANISATION, _DAY
        ),
    )


def counters(person: User) -> list[tuple[throttle.Limit, str]]:
    """Each limit with the key it counts under for a registration `person` answers for."""
    per_user, per_organisation = limits()
    return [
        (per_user, f"user:{person.pk}"),
        (per_organisation, f"organisation:{person.organisation_id}"),
    ]


def used_up(person: User) -> bool:
    """Whether a limit is already reached (a read: nothing counted)."""
    return any(throttle.exceeded(limit, key) for limit, key in counters(person))


def take(person: User) -> bool:
    """Count one registration against every limit; False when one is full. Call inside the
    registration's transaction and roll it back on False, so no count is left behind."""
    return all(throttle.take(limit, key) for limit, key in counters(person))
