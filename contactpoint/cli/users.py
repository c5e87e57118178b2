"""`contactpoint users`: a local index team manages its area's users (docs/users.md).

Every change goes through `contactpoint.access.users`, which asks the decider; this module
finds people by e-mail and prints. A password is printed once, when it is made. A user the
actor may not manage gets the same answer as an unknown e-mail, so nobody learns who exists.

The --by user is named, not signed in: each change's audit event also records the
operating-system account that ran the command (`Actor.at_command_line`). When the audit
log cannot be written, the change is not made and the command says so (exit code 2).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from contactpoint.access import users
from contactpoint.access.activation import LINK_HOURS
from contactpoint.access.bootstrap import Founding, bootstrap_administrator
from contactpoint.access.models import User
from contactpoint.access.permissions import Permission
from contactpoint.access.standing import RECERTIFY_MONTHS, add_months
from contactpoint.access.users import Actor, Refused
from contactpoint.audit import log as audit_log
from contactpoint.cli.common import (
    Stop,
    actor_by,
    answered,
    organisation_by,
    parse_date,
    parse_role,
    roles,
    users_with_organisation,
)

LINK_SENT = (
    "a link to set their own password was e-mailed to {email} (it works once, for {hours} "
    "hours); nobody else sees the password"
)
# Bootstrap alone prints a password: there is nobody yet to send a link from.
HAND_OVER = (
    "Hand this password to the user securely (in person or by phone, never by e-mail or "
    "chat); they change it and set up a second factor when they first sign in."
)
MANAGE = Permission.AREA_USERS_MANAGE.value  # the rule refusals are audited under


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="the users you may see (everyone without --by)")
    listing.add_argument("--by", help="the e-mail of the user asking")
    _by(sub, "show", "one user's record and standing").add_argument("email")
    create = _by(
        sub, "create", "create a user (not enabled yet); e-mails them a link to set their password"
    )
    _person(create)
    create.add_argument("--role", required=True, help=f"one of {roles()}")
    enable = _by(sub, "enable", "record vetting and training, and let the user sign in")
    enable.add_argument("email")
    _dates(enable)
    _by(sub, "recertify", "confirm the user still needs access").add_argument("email")
    _by(sub, "disable", "stop the user at once; their sessions end").add_argument("email")
    role = _by(sub, "role", "give the user another role; their sessions end")
    role.add_argument("email")
    role.add_argument("role", help=f"one of {roles()}")
    reset = _by(
        sub,
        "reset-password",
        "stop the password and second factors; e-mails a link to set a new one",
    )
    reset.add_argument("email")
    bootstrap = sub.add_parser("bootstrap", help="the first national administrator")
    _person(bootstrap)
    bootstrap.add_argument(
        "--organisation-name",
        help="create the organisation with this name when CODE is not known yet",
    )
    _dates(bootstrap)
    bootstrap.add_argument(
        "--another",
        action="store_true",
        help="a further national administrator (nobody gives that role in the service)",
    )


def _by(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str
) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=text)
    p.add_argument("--by", required=True, help="the e-mail of the user making the change")
    return p


def _person(p: argparse.ArgumentParser) -> None:
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True, help="the user's full name")
    p.add_argument("--organisation", required=True, metavar="CODE", help="organisation code")


def _dates(p: argparse.ArgumentParser) -> None:
    p.add_argument("--vetting-date", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--training-date", required=True, metavar="YYYY-MM-DD")


def run(args: argparse.Namespace) -> int:
    return answered(_ACTIONS[args.action], args)


def standing(user: User) -> str:
    reasons = user.suspensions()
    return "enabled" if not reasons else "suspended: " + "; ".join(reasons)


def _managed(actor: Actor, email: str, verb: str = "manage") -> User:
    # One message for unknown and out-of-reach alike: the answer must not say who exists.
    user = users.visible_users(actor).filter(email=email.strip().lower()).first()
    if user is None:
        raise Stop(f"no user {email} that you can {verb}")
    return user


@contextlib.contextmanager
def refusals_audited(actor: Actor, change: str) -> Iterator[None]:
    """Audit a change the services refuse, as the pages and the API do, then let the
    refusal print (an audit log that cannot be written stops the command instead)."""
    try:
        yield
    except Refused as refused:
        details = {"reason": str(refused), "change": change} | users.cli_operator()
        entry = audit_log.entry(
            actor.principal, f"access:{MANAGE}", audit_log.REFUSED, details=details
        )
        audit_log.append(entry)
        raise


def _list(args: argparse.Namespace) -> int:
    shown = users.visible_users(actor_by(args.by)) if args.by else users_with_organisation().all()
    count = 0
    print("email\tname\torganisation\trole\tstatus")
    for u in shown.order_by("email"):
        print(f"{u.email}\t{u.name}\t{u.organisation.code}\t{u.role}\t{standing(u)}")
        count += 1
    print(f"{count} user(s)")
    return 0


def _show(args: argparse.Namespace) -> int:
    u = _managed(actor_by(args.by), args.email, "see")
    area = u.organisation.council_area
    due = add_months(u.certified_on, RECERTIFY_MONTHS) if u.certified_on else None
    rows = [
        ("email", u.email),
        ("name", u.name),
        ("organisation", f"{u.organisation.name} ({u.organisation.code})"),
        ("council area", f"{area.name} ({area.code})" if area else "none (national)"),
        ("role", f"{u.role_enum.label} ({u.role})"),
        ("status", standing(u)),
        ("vetting checked", _day(u.vetting_checked_on)),
        ("training completed", _day(u.training_completed_on)),
        ("certified", f"{_day(u.certified_on)} (next due {_day(due)})"),
        ("last active", _day(u.last_active_on)),
        ("authorised by", u.authorised_by.email if u.authorised_by else "-"),
        ("authenticator apps", str(u.totp_devices.filter(confirmed=True).count())),
        ("security keys", str(u.security_keys.count())),
    ]
    for label, value in rows:
        print(f"{label + ':':<20}{value}")
    return 0


def _day(day: dt.date | None) -> str:
    return day.isoformat() if day else "-"


def _create(args: argparse.Namespace) -> int:
    actor = actor_by(args.by)
    organisation = organisation_by(args.organisation)
    role = parse_role(args.role)
    email = _email(args.email)
    with refusals_audited(actor, "create"):
        user = users.create_user(
            actor, email=email, name=args.name, organisation=organisation, role=role
        )
    print(f"created {user.email}, {role.label.lower()} at {organisation.name}; not enabled yet")
    print(LINK_SENT.format(email=user.email, hours=LINK_HOURS))
    print(
        "Next: someone other than you enables them: contactpoint users enable "
        f"{user.email} --by EMAIL --vetting-date YYYY-MM-DD --training-date YYYY-MM-DD"
    )
    return 0


def actor_email(actor: Actor) -> str:
    return actor.user.email if actor.user else actor.principal.id


def _email(value: str) -> str:
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise Stop(f"{value!r} is not an e-mail address") from None
    return email


def _enable(args: argparse.Namespace) -> int:
    actor = actor_by(args.by)
    vetting = parse_date("--vetting-date", args.vetting_date)
    training = parse_date("--training-date", args.training_date)
    user = _managed(actor, args.email)
    with refusals_audited(actor, "enable"):
        users.enable(actor, user, vetting_checked_on=vetting, training_completed_on=training)
    reasons = user.suspensions()
    if reasons:
        print(f"enabled {user.email}, but still suspended: {'; '.join(reasons)}")
    else:
        print(f"enabled {user.email}; they may sign in")
    return 0


def _recertify(args: argparse.Namespace) -> int:
    actor = actor_by(args.by)
    user = _managed(actor, args.email)
    with refusals_audited(actor, "recertify"):
        users.recertify(actor, user)
    due = add_months(dt.date.today(), RECERTIFY_MONTHS)
    print(f"recertified {user.email}; next due by {due.isoformat()}")
    return 0


def _disable(args: argparse.Namespace) -> int:
    actor = actor_by(args.by)
    user = _managed(actor, args.email)
    with refusals_audited(actor, "disable"):
        users.disable(actor, user)
    print(f"disabled {user.email}; every session they held has ended")
    return 0


def _role(args: argparse.Namespace) -> int:
    actor = actor_by(args.by)
    role = parse_role(args.role)
    user = _managed(actor, args.email)
    with refusals_audited(actor, "change-role"):
        users.change_role(actor, user, role)
    print(f"{user.email} is now a {role.label.lower()}; their sessions have ended")
    return 0


def _reset_password(args: argparse.Namespace) -> int:
    actor = actor_by(args.by)
    user = _managed(actor, args.email)
    with refusals_audited(actor, "reset-password"):
        users.reset_password(actor, user)
    print(f"reset {user.email}: their password and second factors no longer work")
    print(LINK_SENT.format(email=user.email, hours=LINK_HOURS))
    print("They set up a second factor again when they sign in.")
    return 0


def _bootstrap(args: argparse.Namespace) -> int:
    made = bootstrap_administrator(
        _email(args.email),
        args.name,
        parse_date("--vetting-date", args.vetting_date),
        parse_date("--training-date", args.training_date),
        Founding(args.organisation, args.organisation_name),
        another=args.another,
    )
    user, organisation, accredited = made.user, made.organisation, made.accredited
    which = "a further" if args.another else "the first"
    print(f"created {which} national administrator, {user.email}, enabled")
    if accredited:
        print(
            f"accredited {organisation.name} ({organisation.code}) until {accredited.isoformat()}"
            " (renew with `contactpoint organisations accredit`)"
        )
    else:
        print(f"{organisation.name} ({organisation.code}) was accredited already")
    print(f"first password: {made.password}")
    print(HAND_OVER)
    return 0


_ACTIONS = {
    "list": _list,
    "show": _show,
    "create": _create,
    "enable": _enable,
    "recertify": _recertify,
    "disable": _disable,
    "role": _role,
    "reset-password": _reset_password,
    "bootstrap": _bootstrap,
}
