"""Signing in: the password step, the second-factor step, and the session they leave.

Both answers of the password step (wrong, or right) take at least SIGN_IN_FLOOR seconds,
and a wrong e-mail runs Argon2 like a wrong password (Django's ModelBackend does), so
neither the words nor the time say whether an account exists.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.contrib.auth import authenticate, login
from django.http import HttpRequest

from contactpoint.access import throttle
from contactpoint.access.addresses import client_address
from contactpoint.access.middleware import FACTOR_AT, SIGNED_IN_AT
from contactpoint.access.models import User

PENDING = "cp_pending"
PENDING_SECONDS = 5 * 60  # from the password to the second factor
SIGN_IN_FLOOR = 0.6  # seconds; above Argon2's own time on a busy 2-core machine


@dataclass(frozen=True)
class PasswordResult:
    user: User | None
    throttled: bool = False


def pad(started: float, floor: float = SIGN_IN_FLOOR) -> None:
    """Sleep until `floor` seconds have passed since `started`."""
    left = floor - (time.monotonic() - started)
    if left > 0:
        time.sleep(left)


def check_password(request: HttpRequest, email: str, password: str) -> PasswordResult:
    """Check an e-mail and password under the throttles; the answer hides whether it exists."""
    email = email.strip().lower()
    address = client_address(request)
    limits = (
        (throttle.SIGNIN_PER_ACCOUNT_AND_ADDRESS, (email, address)),
        (throttle.SIGNIN_PER_ADDRESS, (address,)),
    )
    if any(throttle.exceeded(limit, *parts) for limit, parts in limits):
        _audit_failure(PASSWORD_STEP, User.objects.filter(email=email).first(), throttled=True)
        return PasswordResult(None, throttled=True)
    user = authenticate(request, username=email, password=password)
    if not isinstance(user, User):
        for limit, parts in limits:
            throttle.record_failure(limit, *parts)
        _audit_failure(PASSWORD_STEP, User.objects.filter(email=email).first())
        return PasswordResult(None)
    throttle.clear(throttle.SIGNIN_PER_ACCOUNT_AND_ADDRESS, email, address)
    return PasswordResult(user)


def begin(request: HttpRequest, user: User) -> None:
    """The password is right: a new session id, holding who is half-way through."""
    request.session.cycle_key()
    request.session[PENDING] = {
        "user": str(user.id),
        "at": time.time(),
        "epoch": user.session_epoch,
    }


def pending_user(request: HttpRequest) -> User | None:
    """The user half-way through signing in, unless that has gone stale or been ended."""
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    user = User.objects.filter(pk=str(pending.get("user"))).select_related("organisation").first()
    stale = time.time() - float(pending.get("at", 0)) > PENDING_SECONDS
    if user is None or stale or user.session_epoch != pending.get("epoch"):
        request.session.pop(PENDING, None)
        return None
    return user


def has_second_factor(user: User) -> bool:
    return user.totp_devices.filter(confirmed=True).exists() or user.security_keys.exists()


def code_throttled(user: User) -> bool:
    return throttle.exceeded(throttle.CODE_PER_USER, str(user.id))


def code_failed(user: User) -> None:
    throttle.record_failure(throttle.CODE_PER_USER, str(user.id))
    _audit_failure(CODE_STEP, user)


PASSWORD_STEP, CODE_STEP = "access:sign-in:password", "access:sign-in:code"


def _audit_failure(step: str, user: User | None, throttled: bool = False) -> None:
    """A failed sign-in step, under the account's principal when the account exists (the
    e-mail typed is not kept); repeated failures are what misuse detection looks for."""
    from contactpoint.audit import log as audit_log  # audit imports access: not at the top

    who = user.principal(second_factor=False) if user is not None else None
    details = {"throttled": True} if throttled else {}
    audit_log.append(audit_log.entry(who, step, audit_log.REFUSED, details=details))


SIGN_IN = "access:sign-in:complete"


def complete(request: HttpRequest, user: User) -> list[str]:
    """The second factor is right. Sign in unless suspended; return the suspensions."""
    from contactpoint.audit import log as audit_log  # audit imports access: not at the top

    request.session.pop(PENDING, None)
    reasons = user.suspensions()
    who = user.principal(second_factor=True)
    if reasons:
        suspended = {"suspended": reasons}
        audit_log.append(audit_log.entry(who, SIGN_IN, audit_log.REFUSED, details=suspended))
        request.session.cycle_key()
        return reasons
    audit_log.append(audit_log.entry(who, SIGN_IN))
    throttle.clear(throttle.CODE_PER_USER, str(user.id))
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")  # new id
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[FACTOR_AT] = now
    return []


def stepped_up(request: HttpRequest) -> None:
    """The second factor was given again: a new session id, and the clock restarts."""
    request.session.cycle_key()
    request.session[FACTOR_AT] = time.time()
