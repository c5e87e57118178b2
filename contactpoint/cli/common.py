"""What the subcommands share: one clear line and exit code 2 for a refusal or a mistake,
the acting user named by --by, and reading dates, roles and organisations from options."""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Callable

from django.db.models import QuerySet

from contactpoint.access.models import User
from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.audit import log as audit_log
from contactpoint.cli import error
from contactpoint.registry.models import Organisation

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
UNAUDITED = (
    "the change cannot be recorded in the audit log just now, so nothing was changed; "
    "try again later (`contactpoint audit verify` checks the log)"
)


class Stop(Exception):
    """A problem the operator can fix; the message says what it is."""


def answered(action: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run an action; a refusal or a mistake becomes one clear line and exit code 2."""
    try:
        return action(args)
    except Stop as exc:
        return error(str(exc))
    except Refused as exc:
        return error(f"refused: {exc}")
    except Invalid as exc:
        return error(str(exc))
    except audit_log.AuditUnavailable:
        return error(UNAUDITED)


def users_with_organisation() -> QuerySet[User]:
    return User.objects.select_related("organisation__council_area", "organisation__accreditation")


def actor_by(email: str) -> Actor:
    """The acting user named by --by: they must exist, be enabled and not be suspended."""
    user = users_with_organisation().filter(email=email.strip().lower()).first()
    if user is None:
        raise Stop(f"--by: no user {email}")
    if not user.enabled:
        raise Stop(f"--by: {user.email} is not enabled, so cannot act")
    reasons = user.suspensions()
    if reasons:
        raise Stop(f"--by: {user.email}'s access is suspended ({'; '.join(reasons)})")
    return Actor.at_command_line(user)


def parse_date(option: str, value: str) -> dt.date:
    try:
        if not DATE.fullmatch(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Stop(f"{option}: {value!r} is not a date; write it as YYYY-MM-DD") from None


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower().replace("-", "_"))
    except ValueError:
        raise Stop(f"unknown role {value!r}; choose from {roles()}") from None


def roles() -> str:
    return ", ".join(r.value for r in Role)


def organisation_by(code: str) -> Organisation:
    found = Organisation.objects.select_related("council_area").filter(code=code.strip()).first()
    if found is None:
        raise Stop(f"no organisation with code {code} (`contactpoint organisations list`)")
    return found
