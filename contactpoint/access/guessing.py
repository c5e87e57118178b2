"""Telling a user, and their organisation's privacy officers, that someone who had their
password has been entering wrong second factors.

A wrong code can only be entered after the right password, so a few of them in a short
time mean the password is known to someone, or the user is struggling; either way the
user should hear of it from us, and their privacy officers (who review misuse) too. The
e-mail says when and how many, never the code, an address or anything about a child.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from contactpoint.access import throttle
from contactpoint.access.models import User
from contactpoint.access.permissions import Role
from contactpoint.audit import log as audit_log

log = logging.getLogger(__name__)

# Wrong second factors in throttle.CODE_PER_USER's window (15 minutes) after which the user
# and their privacy officers are told: below the throttle's 5, so they hear of it before
# the account is held, and above one slip of the finger.
TELL_AFTER = 3
# At most one e-mail an hour for one user, however long the guessing goes on.
TOLD = throttle.Limit("code-guessing-told", 1, dt.timedelta(hours=1))
TOLD_ACTION = "access:sign-in:guessing-told"
LONDON_FORMAT = "%H:%M on %d %B %Y"


def privacy_officers_of(user: User) -> list[User]:
    """The enabled privacy officers of the user's organisation, the user apart."""
    if user.organisation_id is None:
        return []
    return list(
        User.objects.filter(
            organisation_id=user.organisation_id, role=Role.PRIVACY_OFFICER.value, enabled=True
        ).exclude(pk=user.pk)
    )


def failed(user: User, failures: int) -> bool:
    """A wrong second factor made `failures` in the window: tell, when that is enough and
    nobody was told in the last hour. Returns whether this call told anyone."""
    if failures < TELL_AFTER or not throttle.take(TOLD, str(user.id)):
        return False
    officers = privacy_officers_of(user)
    details = {"failures": failures, "officers": len(officers)}
    who = user.principal(second_factor=False)
    audit_log.append(audit_log.entry(who, TOLD_ACTION, details=details))
    when = timezone.localtime(timezone.now()).strftime(LONDON_FORMAT)
    messages = [(user.email, _to_user(failures, when))]
    messages += [(o.email, _to_officer(user, failures, when)) for o in officers]
    transaction.on_commit(lambda: _send(messages))
    return True


def _to_user(failures: int, when: str) -> str:
    return (
        f"Your contactpoint password was entered correctly, and then {failures} wrong "
        f"second-factor codes or keys in 15 minutes, up to {when} (UK time).\n\n"
        "If that was not you, someone knows your password: change it now at "
        f"{settings.CONTACTPOINT_BASE_URL}/account/password and tell your local index team. "
        "Your organisation's privacy officer has been told as well.\n\n"
        "If it was you, there is nothing to do. Do not reply to this e-mail."
    )


def _to_officer(user: User, failures: int, when: str) -> str:
    return (
        f"{user.name} ({user.email}), a user of your organisation, entered their password "
        f"correctly and then {failures} wrong second-factor codes or keys in 15 minutes, "
        f"up to {when} (UK time). They have been told by e-mail.\n\n"
        "Someone else may know their password. Their sign-in history is at "
        f"{settings.CONTACTPOINT_BASE_URL}/oversight/users/{user.id}.\n\n"
        "This e-mail holds no other details on purpose. Do not reply to it."
    )


def _send(messages: list[tuple[str, str]]) -> None:
    for email, body in messages:
        try:
            send_mail("Wrong second-factor codes on a contactpoint account", body, None, [email])
        except OSError:
            log.warning("a second-factor guessing e-mail could not be sent")
