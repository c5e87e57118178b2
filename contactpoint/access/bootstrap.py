"""The first users of an installation, made with nobody yet to authorise them:
`contactpoint users bootstrap` (the first national administrator) and the demo users."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from contactpoint.access import users
from contactpoint.access.models import Accreditation, User
from contactpoint.access.permissions import Role
from contactpoint.access.standing import add_years
from contactpoint.access.users import Invalid
from contactpoint.audit import log as audit_log
from contactpoint.registry.models import Organisation


def make_enabled_user(
    email: str,
    name: str,
    organisation: Organisation,
    role: Role,
    vetting: dt.date,
    training: dt.date,
    authorised_by: User | None = None,
) -> tuple[User, str]:
    """Create a user enabled and certified today, with no authoriser to ask (demo)."""
    user, password = enabled_user(email, name, organisation, role, vetting, training, authorised_by)
    user.save()
    return user, password


def enabled_user(
    email: str,
    name: str,
    organisation: Organisation,
    role: Role,
    vetting: dt.date,
    training: dt.date,
    authorised_by: User | None = None,
) -> tuple[User, str]:
    """A user enabled and certified today, not saved yet, and their first password."""
    today = dt.date.today()
    if vetting > today or training > today:
        raise Invalid("the vetting check and training dates cannot be in the future")
    if not name.strip():
        raise Invalid("enter the user's full name")
    password = users.new_password()
    user = User(
        email=email,
        name=name.strip(),
        organisation=organisation,
        role=role.value,
        enabled=True,
        vetting_checked_on=vetting,
        training_completed_on=training,
        certified_on=today,
        last_active_on=today,
        authorised_by=authorised_by,
        enabled_by=authorised_by,
    )
    user.set_password(password)
    return user, password


def needs_accreditation(organisation: Organisation) -> bool:
    """Whether the organisation is not accredited now."""
    current = Accreditation.objects.filter(organisation=organisation).first()
    return not (
        current
        and current.status == Accreditation.Status.ACCREDITED
        and current.expires_on >= dt.date.today()
    )


def next_year() -> dt.date:
    return add_years(dt.date.today(), 1)


def accredit_for_a_year(organisation: Organisation, by: User | None) -> dt.date | None:
    """Accredit the organisation for a year unless it is accredited now; return the expiry."""
    if not needs_accreditation(organisation):
        return None
    expires = next_year()
    Accreditation.objects.update_or_create(
        organisation=organisation,
        defaults={
            "status": Accreditation.Status.ACCREDITED,
            "expires_on": expires,
            "recorded_by": by,
        },
    )
    return expires


@dataclass(frozen=True)
class Founding:
    """The organisation a bootstrap's administrator belongs to: found by its code, or
    created (a council team) when a name is given and no organisation has the code."""

    code: str
    name: str | None = None


@dataclass(frozen=True)
class Bootstrapped:
    user: User
    password: str  # the first password, shown once to the operator
    organisation: Organisation
    accredited: dt.date | None  # until when, if the bootstrap accredited the organisation


@transaction.atomic
def bootstrap_administrator(
    email: str,
    name: str,
    vetting: dt.date,
    training: dt.date,
    founding: Founding,
    another: bool = False,
) -> Bootstrapped:
    """Make a national administrator with nobody yet to authorise them, run by an
    operator on the host (`contactpoint users bootstrap`): the user, their organisation's
    accreditation when it has none, and the audit events naming the operating-system
    account, in one transaction.

    Raises:
        Invalid: a national administrator exists already (and not `another`), no such
            organisation and no name to create it, the e-mail address is taken, or the
            administrator would be suspended at once (then nothing is written).
    """
    if not another and User.objects.filter(role=Role.NATIONAL_ADMIN.value).exists():
        raise Invalid(
            "a national administrator already exists; bootstrap starts a new installation "
            "(they create further users with `contactpoint users create`; add --another "
            "for a further national administrator)"
        )
    organisation = _founding_organisation(founding)
    if User.objects.filter(email=email).exists():
        raise Invalid("a user with that e-mail address already exists")
    user, password = enabled_user(email, name, organisation, Role.NATIONAL_ADMIN, vetting, training)
    _audit_bootstrap(user, organisation, accredits=needs_accreditation(organisation))
    user.save(force_insert=True)
    accredited = accredit_for_a_year(organisation, user)
    reasons = User.objects.get(pk=user.pk).suspensions()
    if reasons:  # rolls the whole bootstrap back
        raise Invalid(f"the administrator would be suspended at once: {'; '.join(reasons)}")
    return Bootstrapped(user, password, organisation, accredited)


def _founding_organisation(founding: Founding) -> Organisation:
    code = founding.code.strip()
    found = Organisation.objects.filter(code=code).first()
    if found is not None:
        return found
    if not founding.name or not founding.name.strip():
        raise Invalid(
            f"no organisation with code {code}; load organisations.csv first, or add "
            "--organisation-name NAME to create it"
        )
    return Organisation.objects.create(
        code=code, kind=Organisation.Kind.COUNCIL_TEAM, name=founding.name.strip()
    )


def _audit_bootstrap(user: User, organisation: Organisation, accredits: bool) -> None:
    """The events of a bootstrap, before its user and accreditation are written: there is
    no principal yet, so they name the operating-system account that ran the command."""
    made = {"user": str(user.id), "organisation": organisation.pk, "role": user.role}
    events = [
        audit_log.entry(
            None, "access:user:create", details=made | {"bootstrap": True} | users.cli_operator()
        )
    ]
    if accredits:
        expires = {"organisation": organisation.pk, "expires_on": next_year().isoformat()}
        events.append(
            audit_log.entry(
                None, "access:organisation:accredit", details=expires | users.cli_operator()
            )
        )
    audit_log.append_many(events)
