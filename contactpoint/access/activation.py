"""One-time links, sent to a user's own e-mail, to set their own password (docs/users.md).

A new account, and a password reset, get a link instead of a password that someone else
reads and hands over: nobody but the user ever sees their password. The link's token is
256 random bits; only its SHA-256 digest is stored, so a copy of the database opens no
account. A link works once, for LINK_HOURS, and a newer link for the same user and purpose
replaces the older. The user then signs in and sets up their second factor, as at any
first sign-in.

The e-mail goes through Django's mail backend after the change commits: SMTP when
CONTACTPOINT_SMTP_HOST is set, otherwise a file under `$CONTACTPOINT_DATA_DIR/mail/`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from contactpoint.access.models import Activation, User
from contactpoint.audit import log as audit_log
from contactpoint.lib.errors import Refusal

log = logging.getLogger(__name__)

LINK_HOURS = 72
PATH = "/activate/"  # the page that takes the token (contactpoint.web.views.activation)
MAX_TOKEN_LENGTH = 100  # ours are 43 characters; hash nothing much longer
Purpose = Activation.Purpose

SUBJECTS = {
    Purpose.ACTIVATE: "Set up your contactpoint account",
    Purpose.RESET: "Set a new contactpoint password",
}
OPENINGS = {
    Purpose.ACTIVATE: "An account has been made for you in contactpoint.",
    Purpose.RESET: "Your local index team has reset your contactpoint password.",
}


class LinkRefused(Refusal):
    """This link does not work: it is wrong, was used already, or has expired. Ask your
    local index team for a new one."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def send_link(user: User, purpose: str) -> None:
    """Make a link for the user, replacing any unused one of the same purpose, and e-mail
    it to them once the caller's transaction commits (call it inside that transaction)."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    Activation.objects.filter(user=user, purpose=purpose, used_at=None).update(used_at=now)
    Activation.objects.create(
        user=user,
        digest=digest(token),
        purpose=purpose,
        expires_at=now + dt.timedelta(hours=LINK_HOURS),
    )
    email = user.email
    transaction.on_commit(lambda: _mail(email, Purpose(purpose), token))


def _mail(email: str, purpose: Activation.Purpose, token: str) -> None:
    body = (
        f"{OPENINGS[purpose]}\n\n"
        f"Set your password here within {LINK_HOURS} hours (the link works once):\n"
        f"{settings.CONTACTPOINT_BASE_URL}{PATH}{token}\n\n"
        "Then sign in and set up an authenticator app. If you did not expect this e-mail, "
        "tell your local index team. Do not reply to it."
    )
    try:
        send_mail(SUBJECTS[purpose], body, None, [email])
    except OSError:
        # The index team sends a new link (`users reset-password`) if it never arrives.
        log.warning("an account link e-mail could not be sent (%s)", purpose.value)


def pending(token: str, now: dt.datetime | None = None) -> Activation:
    """The link's unused, unexpired activation.

    Raises:
        LinkRefused: no such link, used, or expired (one answer for all three).
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise LinkRefused
    found = (
        Activation.objects.select_related("user")
        .filter(digest=digest(token), used_at=None, expires_at__gt=now or timezone.now())
        .first()
    )
    if found is None:
        raise LinkRefused
    return found


def set_password(token: str, password: str) -> User:
    """Use the link: set the user's own password, once.

    Raises:
        LinkRefused: the link does not work.
        django.core.exceptions.ValidationError: the password is too weak (nothing used).
        AuditUnavailable: nothing is changed.
    """
    with transaction.atomic():
        activation = pending(token)
        claimed = Activation.objects.filter(pk=activation.pk, used_at=None).update(
            used_at=timezone.now()
        )
        if not claimed:  # used a moment ago, in another request
            raise LinkRefused
        user = activation.user
        validate_password(password, user)
        who = user.principal(second_factor=False)
        details = {"user": str(user.id), "purpose": activation.purpose}
        audit_log.append(audit_log.entry(who, "access:user:set-password", details=details))
        user.set_password(password)
        user.save(update_fields=["password"])
    return user
