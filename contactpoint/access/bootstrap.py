"""The first users of an installation, made with nobody yet to authorise them:
`contactpoint users bootstrap` (the first national administrator) and the demo users."""

from __future__ import annotations

import datetime as dt

from contactpoint.access import users
from contactpoint.access.models import Accreditation, User
from contactpoint.access.permissions import Role
from contactpoint.access.standing import add_years
from contactpoint.access.users import Invalid
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
