"""TOTP authenticator apps (RFC 6238 through `pyotp`): set-up, and codes never used twice."""

from __future__ import annotations

import datetime as dt
import enum

import pyotp
import segno
from django.conf import settings
from django.db import transaction

from contactpoint.access.models import TotpDevice, User
from contactpoint.lib import crypto

ISSUER = "contactpoint"
STEP_SECONDS = 30
# One step either side allows for a phone clock a little out; never more.
VALID_WINDOW = 1
# A code of one of the ten steps (five minutes) before the window is called expired, not
# wrong. A guess lands there 10 times in a million: it tells a guesser nothing useful.
EXPIRED_STEPS = 10


def _key(root: str | None = None) -> bytes:
    secret = settings.SECRET_KEY if root is None else root
    return crypto.derive_key(secret.encode(), "contactpoint totp secret v1")


def _associated(device_user_id: str) -> bytes:
    return f"access_totpdevice:{device_user_id}".encode()


def start(user: User) -> tuple[TotpDevice, str]:
    """Make an unconfirmed device with a new secret; return it and the secret (base32)."""
    secret = pyotp.random_base32()
    device = TotpDevice.objects.create(
        user=user, secret_sealed=crypto.seal(_key(), secret.encode(), _associated(str(user.id)))
    )
    return device, secret


def secret_of(device: TotpDevice) -> str:
    """Open the device's secret; one sealed under an earlier secret key is sealed again
    under the current one, so a key rotation completes as users sign in."""
    sealed, associated = bytes(device.secret_sealed), _associated(str(device.user_id))
    try:
        return crypto.open_sealed(_key(), sealed, associated).decode()
    except crypto.DecryptionError:
        for old in settings.SECRET_KEY_FALLBACKS:
            try:
                secret = crypto.open_sealed(_key(old), sealed, associated)
            except crypto.DecryptionError:
                continue
            device.secret_sealed = crypto.seal(_key(), secret, associated)
            TotpDevice.objects.filter(pk=device.pk).update(secret_sealed=device.secret_sealed)
            return secret.decode()
        raise


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg_data_uri(uri: str) -> str:
    """The set-up QR code as an SVG data URI (an <img>, so the page needs no script)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def qr_terminal(uri: str) -> str:
    """The set-up QR code drawn with block characters, for `make demo` and the CLI."""
    import io

    out = io.StringIO()
    segno.make(uri, error="m").terminal(out=out, compact=True, border=2)
    return out.getvalue()


class Check(enum.StrEnum):
    """What a code turned out to be. Only RIGHT signs in; the others say why not."""

    RIGHT = "right"
    WRONG = "wrong"
    EXPIRED = "expired"  # right for a step a little before the window: a slow hand or clock
    USED = "used"  # right for a step already accepted: typed twice, or replayed


def verify(device: TotpDevice, code: str, now: dt.datetime | None = None) -> bool:
    """Accept a code once: a step at or before the last accepted one is refused."""
    return check(device, code, now) is Check.RIGHT


def check(device: TotpDevice, code: str, now: dt.datetime | None = None) -> Check:
    """Accept a code once (a step at or before the last accepted one is USED); a code of one
    of the EXPIRED_STEPS steps before the window is EXPIRED, not WRONG, so the user is told
    to take the new one. Either still counts as a failed attempt where the caller counts."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return Check.WRONG
    totp = pyotp.TOTP(secret_of(device))
    at = now or dt.datetime.now(dt.UTC)
    step = int(at.timestamp()) // STEP_SECONDS
    used = False
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        candidate = step + offset
        if not totp.verify(code, for_time=candidate * STEP_SECONDS, valid_window=0):
            continue
        if candidate <= device.last_step:
            used = True
            continue
        # Two requests with the same code race here; the conditional update lets one win.
        with transaction.atomic():
            won = TotpDevice.objects.filter(pk=device.pk, last_step__lt=candidate).update(
                last_step=candidate, confirmed=True
            )
        if won:
            device.last_step, device.confirmed = candidate, True
            return Check.RIGHT
        return Check.USED
    if used:
        return Check.USED
    for candidate in range(step - VALID_WINDOW - EXPIRED_STEPS, step - VALID_WINDOW):
        if totp.verify(code, for_time=candidate * STEP_SECONDS, valid_window=0):
            return Check.EXPIRED
    return Check.WRONG


def check_any(user: User, code: str) -> Check:
    """Check the code against each of the user's confirmed devices: RIGHT when one accepts
    it, otherwise the most telling answer (USED, then EXPIRED, then WRONG)."""
    found = Check.WRONG
    for device in user.totp_devices.filter(confirmed=True):
        result = check(device, code)
        if result is Check.RIGHT:
            return result
        if _RANK[result] > _RANK[found]:
            found = result
    return found


_RANK = {Check.WRONG: 0, Check.EXPIRED: 1, Check.USED: 2, Check.RIGHT: 3}


def verify_any(user: User, code: str) -> bool:
    """Try the code against each of the user's confirmed devices."""
    return check_any(user, code) is Check.RIGHT
