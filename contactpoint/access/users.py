"""What an authoriser does to users and organisations. Each change asks the decider first.

The web pages, the JSON API and `contactpoint users` all call these functions, so the
rules are the same whichever way a change arrives. Each change writes its audit event
(`access:user:<change>`, `access:organisation:<change>`, docs/audit.md) in its own
transaction and before it: when the event cannot be written, `AuditUnavailable` is raised
and nothing is changed.
"""

from __future__ import annotations

import datetime as dt
import getpass
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from contactpoint.access import activation, throttle
from contactpoint.access.models import Accreditation, ApiClient, ResetRequest, User
from contactpoint.access.permissions import (
    Permission,
    Principal,
    Role,
    Target,
    decide,
    may_stop,
    may_vouch_for,
)
from contactpoint.audit import log as audit_log
from contactpoint.lib.errors import Refusal
from contactpoint.registry.models import Organisation

_HOUR, _DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


class Refused(Refusal):
    """The actor may not make this change; the message says why, and names no one."""

    status = 403  # the HTTP answer: not allowed


class Invalid(Refusal):
    """The change is not possible as asked (a missing date, a duplicate e-mail)."""


class TooManyChanges(Refused):
    """The actor has made as many administrative changes as the hour or the day allows."""

    status = 429  # allowed, but not again until the window has room


@dataclass(frozen=True)
class Actor:
    """Who makes a change: the decider's view, and the user to record as authoriser.

    `os_user` is the operating-system account that ran the command when the change comes
    from the command line, where the --by user was named, not signed in (None otherwise).
    """

    principal: Principal
    user: User | None = None
    os_user: str | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.principal(second_factor=True), user)

    @classmethod
    def at_command_line(cls, user: User) -> Actor:
        return cls(user.principal(second_factor=True), user, os_user=os_user())


def os_user() -> str:
    """The operating-system account running this process, for the audit of CLI actions."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return "unknown"


def cli_operator() -> dict[str, str]:
    """The audit details that say who ran a command that has no signed-in principal."""
    return {"operator": "cli", "os_user": os_user()}


def audited(actor: Actor, action: str, **details: Any) -> None:
    """Write the audit event of a change the actor makes, before the change and inside its
    transaction: raises AuditUnavailable, and so changes nothing, when it cannot be written.
    `details` name users and organisations by id, never a password or a code."""
    if actor.os_user is not None:
        details |= {"operator": "cli", "os_user": actor.os_user}
    else:
        _within_change_limits(actor)
    audit_log.append(audit_log.entry(actor.principal, action, details=details))


def change_limits() -> tuple[throttle.Limit, throttle.Limit]:
    return (
        throttle.Limit("admin-hour", settings.CONTACTPOINT_ADMIN_CHANGES_PER_HOUR, _HOUR),
        throttle.Limit("admin-day", settings.CONTACTPOINT_ADMIN_CHANGES_PER_DAY, _DAY),
    )


def _within_change_limits(actor: Actor) -> None:
    """Count one change against the principal's hourly and daily limits, in the change's
    transaction (a change refused or undone is not counted), or refuse it. A stolen session
    or client secret then changes a few dozen accounts, not every account in an area. The
    command line, run by the operator at the server, is not limited."""
    key = actor.principal.key
    hourly, daily = change_limits()
    if not (throttle.take(hourly, key) and throttle.take(daily, key)):
        raise TooManyChanges(
            f"you have made {hourly.attempts} changes to users, clients and organisations "
            f"in an hour, or {daily.attempts} in a day, the most allowed: ask another "
            "administrator, or try again later"
        )


def user_target(user: User, role: Role | None = None) -> Target:
    return Target(
        user_id=str(user.id),
        organisation_id=user.organisation_id,
        area_code=user.area_code,
        role=role,
    )


def organisation_target(organisation: Organisation) -> Target:
    area = organisation.council_area
    return Target(organisation_id=organisation.pk, area_code=area.code if area else None)


def require(actor: Actor, permission: Permission, target: Target | None = None) -> None:
    decision = decide(actor.principal, permission, target)
    if not decision:
        raise Refused(decision.reason)


def visible_users(actor: Actor) -> QuerySet[User]:
    """The users the actor may see: everyone, their area's, or their organisation's."""
    users = User.objects.select_related("organisation__council_area", "organisation__accreditation")
    p = actor.principal
    if decide(p, Permission.NATIONAL_USERS_MANAGE):
        return users.all()
    if decide(p, Permission.AREA_USERS_READ):
        return users.filter(organisation__council_area__code=p.area_code)
    if decide(p, Permission.ORGANISATION_USERS_READ):
        return users.filter(organisation_id=p.organisation_id)
    return users.none()


def privacy_officers_of(organisation_id: int) -> list[User]:
    """The enabled privacy officers of an organisation: who is told of its misuse alerts."""
    return list(
        User.objects.filter(
            organisation_id=organisation_id, role=Role.PRIVACY_OFFICER.value, enabled=True
        )
    )


def new_password() -> str:
    """A throw-away password (demo and bootstrap only; everyone else sets their own through
    a link): 4 groups of 5 letters and digits (~100 bits)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


@transaction.atomic
def create_user(
    actor: Actor, *, email: str, name: str, organisation: Organisation, role: Role
) -> User:
    """Create a user, not yet enabled, and e-mail them a one-time link to set their own
    password: nobody else sees it."""
    email = email.strip().lower()
    area = organisation.council_area
    target = Target(
        organisation_id=organisation.pk, area_code=area.code if area else None, role=role
    )
    _by_a_person(actor, "create")
    require(actor, Permission.AREA_USERS_MANAGE, target)
    if not name.strip():
        raise Invalid("enter the user's full name")
    try:
        validate_email(email)
    except ValidationError as exc:
        raise Invalid("enter a work e-mail address, like name@example.org") from exc
    if User.objects.filter(email=email).exists():
        raise Invalid("a user with that e-mail address already exists")
    user = User(
        email=email,
        name=name.strip(),
        organisation=organisation,
        role=role.value,
        created_by=actor.user,
        role_since=timezone.now(),
    )
    user.set_unusable_password()
    with transaction.atomic():
        audited(
            actor,
            "access:user:create",
            user=str(user.id),
            organisation=organisation.pk,
            role=role.value,
        )
        user.save(force_insert=True)
        activation.send_link(user, activation.Purpose.ACTIVATE)
    return user


@transaction.atomic
def enable(
    actor: Actor, user: User, *, vetting_checked_on: dt.date, training_completed_on: dt.date
) -> None:
    """Record the vetting check and training, and let the user sign in. Someone other than
    the user's creator does it: two people stand behind every account."""
    _vouching(actor, user, "enable")
    if user.created_by_id is not None and actor.principal.id == str(user.created_by_id):
        raise Refused("someone other than the person who created this account must enable it")
    today = dt.date.today()
    if vetting_checked_on > today or training_completed_on > today:
        raise Invalid("the vetting check and training dates cannot be in the future")
    with transaction.atomic():
        audited(actor, "access:user:enable", user=str(user.id))
        user.vetting_checked_on = vetting_checked_on
        user.training_completed_on = training_completed_on
        user.enabled = True
        user.certified_on = today
        user.last_active_on = today  # a fresh start for the 60-day rule
        user.authorised_by = actor.user
        user.enabled_by = actor.user
        user.save()


@transaction.atomic
def recertify(actor: Actor, user: User) -> None:
    """The 4-monthly confirmation that the user still needs access."""
    _vouching(actor, user, "recertify")
    if not user.enabled:
        raise Invalid("enable the user first")
    with transaction.atomic():
        audited(actor, "access:user:recertify", user=str(user.id))
        user.certified_on = dt.date.today()
        user.authorised_by = actor.user
        user.save(update_fields=["certified_on", "authorised_by"])


@transaction.atomic
def disable(actor: Actor, user: User) -> None:
    """Stop the user at once: every session and token they hold ends now. Nobody stops a
    user above their own role (the index team cannot stop its privacy officers)."""
    require(actor, Permission.AREA_USERS_MANAGE, user_target(user))
    if not may_stop(actor.principal.role, user.role_enum):
        raise Refused(f"your role cannot disable a {user.role_enum.label.lower()}")
    with transaction.atomic():
        audited(actor, "access:user:disable", user=str(user.id))
        user.enabled = False
        user.save(update_fields=["enabled"])
        end_sessions(user)


@transaction.atomic
def change_role(actor: Actor, user: User, role: Role) -> None:
    """Give the user another role; their sessions end, so the new role starts clean, and
    the time they have held a role starts again."""
    _by_a_person(actor, "change the role of")
    require(actor, Permission.AREA_USERS_MANAGE, user_target(user, role))
    _vouching(actor, user, "change the role of")
    with transaction.atomic():
        audited(actor, "access:user:change-role", user=str(user.id), old=user.role, new=role.value)
        user.role = role.value
        user.role_since = timezone.now()
        user.save(update_fields=["role", "role_since"])
        end_sessions(user)


@transaction.atomic
def reset_password(actor: Actor, user: User) -> None:
    """Stop the user's password and second factors, and e-mail them a one-time link to set
    a new password; they set up a second factor again when they sign in."""
    _vouching(actor, user, "reset the password of")
    with transaction.atomic():
        audited(actor, "access:user:reset-password", user=str(user.id))
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.totp_devices.all().delete()
        user.security_keys.all().delete()
        ResetRequest.objects.filter(user=user, handled_at=None).update(
            handled_at=dt.datetime.now(dt.UTC)
        )
        end_sessions(user)
        activation.send_link(user, activation.Purpose.RESET)


def change_own_password(user: User, current: str, new: str) -> None:
    """Change the signed-in user's own password; a wrong current one is audited as refused."""
    who = user.principal(second_factor=True)
    action = "access:user:change-password"
    if not user.check_password(current):
        refusal = {"user": str(user.id), "reason": "the current password was wrong"}
        audit_log.append(audit_log.entry(who, action, audit_log.REFUSED, details=refusal))
        raise Invalid("your current password is not right")
    validate_password(new, user)  # raises django ValidationError with the reasons
    with transaction.atomic():
        audit_log.append(audit_log.entry(who, action, details={"user": str(user.id)}))
        user.set_password(new)
        user.save(update_fields=["password"])


def end_sessions(user: User) -> None:
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])


@transaction.atomic
def accredit(
    actor: Actor, organisation: Organisation, *, expires_on: dt.date, withdrawn: bool = False
) -> Accreditation:
    """Record an organisation's accreditation (or its withdrawal) and its expiry.

    Only the national team grants or extends accreditation: ContactPoint let councils
    certify themselves. A local index team may withdraw it in its own area at once.
    """
    granting = not withdrawn
    permission = (
        Permission.NATIONAL_ORGANISATIONS_MANAGE
        if granting
        else Permission.AREA_ORGANISATIONS_MANAGE
    )
    require(actor, permission, organisation_target(organisation))
    if withdrawn:
        _may_stop_everyone(actor, organisation)
    status = Accreditation.Status.WITHDRAWN if withdrawn else Accreditation.Status.ACCREDITED
    change = "withdraw" if withdrawn else "accredit"
    with transaction.atomic():
        audited(
            actor,
            f"access:organisation:{change}",
            organisation=organisation.pk,
            expires_on=expires_on.isoformat(),
        )
        accreditation, _ = Accreditation.objects.update_or_create(
            organisation=organisation,
            defaults={"status": status, "expires_on": expires_on, "recorded_by": actor.user},
        )
        if not accreditation.in_force(dt.date.today()):
            # Every session and token of the organisation ends now, in two statements.
            for model in (User, ApiClient):
                model.objects.filter(organisation=organisation).update(
                    session_epoch=F("session_epoch") + 1
                )
    return accreditation


def _may_stop_everyone(actor: Actor, organisation: Organisation) -> None:
    # Withdrawing accreditation suspends every user of the organisation: nobody may use it
    # to stop someone they could not disable (the index team, its privacy officers).
    roles = User.objects.filter(organisation=organisation, enabled=True).values_list("role")
    above = [Role(r) for (r,) in roles.distinct() if not may_stop(actor.principal.role, Role(r))]
    if above:
        raise Refused(
            f"this organisation has a {above[0].label.lower()}, whom your role cannot stop: "
            "the national team withdraws its accreditation"
        )


def machine_client_refusal(change: str) -> str:
    return (
        f"a machine client cannot {change} a user: a person does it on the web pages or "
        "with `contactpoint users`"
    )


def _by_a_person(actor: Actor, change: str) -> None:
    # A machine client never vouches for a person: a stolen client secret must not mint
    # accounts, nor enable, recertify, promote or take over one.
    if actor.principal.kind != "user":
        raise Refused(machine_client_refusal(change))


def _vouching(actor: Actor, user: User, change: str) -> None:
    """The checks of every change that vouches for a user: a person, allowed by the
    decider, not themselves, and above the user's role."""
    _by_a_person(actor, change)
    require(actor, Permission.AREA_USERS_MANAGE, user_target(user))
    # Nobody vouches for themselves: another authoriser enables, recertifies or promotes.
    if actor.principal.id == str(user.id):
        raise Refused("another authoriser must do this for your own account")
    if not may_vouch_for(actor.principal.role, user.role_enum):
        raise Refused(f"your role cannot {change} a {user.role_enum.label.lower()}")
