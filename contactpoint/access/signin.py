"""Signing in: the password step, the second-factor step, and the session they leave.

Both answers of the password step (wrong, or right) take at least SIGN_IN_FLOOR seconds,
and a wrong e-mail runs Argon2 like a wrong password (Django's ModelBackend does), so
neither the words nor the time say whether an account exists.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import authenticate, login
from django.http import HttpRequest

from contactpoint.access import guessing, throttle, totp
from contactpoint.access.addresses import client_address
from contactpoint.access.middleware import FACTOR_AT, SIGNED_IN_AT
from contactpoint.access.models import TotpDevice, User
from contactpoint.audit import log as audit_log

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
    """Check an e-mail and password under the throttles; the answer hides whether it exists.

    Every attempt is audited (right, wrong or throttled; never the password or e-mail)."""
    email = email.strip().lower()
    address = client_address(request)
    limits = (
        (throttle.SIGNIN_PER_ACCOUNT_AND_ADDRESS, (email, address)),
        (throttle.SIGNIN_PER_ACCOUNT, (email,)),
        (throttle.SIGNIN_PER_ADDRESS, (address,)),
    )
    held = [limit.name for limit, parts in limits if throttle.exceeded(limit, *parts)]
    if held:
        account = User.objects.filter(email=email).first()
        _audit(PASSWORD_STEP, account, THROTTLED, {"limits": held})
        return PasswordResult(None, throttled=True)
    user = authenticate(request, username=email, password=password)
    if not isinstance(user, User):
        for limit, parts in limits:
            throttle.record_failure(limit, *parts)
        _audit(PASSWORD_STEP, User.objects.filter(email=email).first(), WRONG)
        return PasswordResult(None)
    throttle.clear(throttle.SIGNIN_PER_ACCOUNT_AND_ADDRESS, email, address)
    throttle.clear(throttle.SIGNIN_PER_ACCOUNT, email)
    _audit(PASSWORD_STEP, user, RIGHT)
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


PASSWORD_STEP, CODE_STEP = "access:sign-in:password", "access:sign-in:code"
# What an attempt was, as the audit event's details say (never what was typed).
RIGHT, WRONG, THROTTLED = "right", "wrong", "throttled"
# Where a second factor was asked for: signing in, setting up the first app, or again
# before a sensitive action.
SIGN_IN_STAGE, SET_UP_STAGE, STEP_UP_STAGE = "sign-in", "set-up", "step-up"
APP, KEY = "app", "key"


def code_throttled(user: User) -> bool:
    return throttle.exceeded(throttle.CODE_PER_USER, str(user.id))


def check_code(
    user: User, code: str, stage: str, device: TotpDevice | None = None
) -> totp.Check | None:
    """Check an authenticator code (for `device`, or any confirmed one) under the user's
    throttle, and audit the attempt; None when throttled (nothing was checked)."""
    if code_throttled(user):
        factor_throttled(user, stage, APP)
        return None
    code = code[:16]
    result = totp.check(device, code) if device else totp.check_any(user, code)
    if result is totp.Check.RIGHT:
        factor_right(user, stage, APP)
    else:
        factor_failed(user, stage, APP, result.value)
    return result


def factor_right(user: User, stage: str, factor: str) -> None:
    _audit(CODE_STEP, user, RIGHT, {"stage": stage, "factor": factor})


def factor_throttled(user: User, stage: str, factor: str) -> None:
    _audit(CODE_STEP, user, THROTTLED, {"stage": stage, "factor": factor})


def factor_failed(user: User, stage: str, factor: str, why: str = WRONG) -> None:
    """A wrong code or key: counted against the user from any address, audited, and the
    user and their privacy officers told when it happens again and again."""
    failures = throttle.record_failure(throttle.CODE_PER_USER, str(user.id))
    _audit(CODE_STEP, user, why, {"stage": stage, "factor": factor, "failures": failures})
    guessing.failed(user, failures)


def _audit(step: str, user: User | None, what: str, details: dict[str, Any] | None = None) -> None:
    """A sign-in step, under the account's principal when the account exists (the e-mail
    typed is not kept); repeated failures are what misuse detection looks for."""
    who = user.principal(second_factor=False) if user is not None else None
    outcome = audit_log.ALLOWED if what == RIGHT else audit_log.REFUSED
    full = {"attempt": what, **(details or {})}
    audit_log.append(audit_log.entry(who, step, outcome, details=full))


SIGN_IN = "access:sign-in:complete"


def complete(request: HttpRequest, user: User) -> list[str]:
    """The second factor is right. Sign in unless suspended; return the suspensions."""
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
