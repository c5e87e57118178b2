"""Fixed-window attempt counters kept in the database, so every app server sees them.

Keys are digests: the table never holds an e-mail address or an IP address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from contactpoint.access.models import Throttle


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    window: dt.timedelta


# Failed passwords for one e-mail from one address: a real user elsewhere is not locked out.
SIGNIN_PER_ACCOUNT_AND_ADDRESS = Limit("signin-account-address", 5, dt.timedelta(minutes=15))
# Failed passwords from one address, whatever the e-mail: stops spraying many accounts.
SIGNIN_PER_ADDRESS = Limit("signin-address", 30, dt.timedelta(hours=1))
# Wrong second-factor codes for one user (the password was right): 6 digits need ~10^5 tries.
CODE_PER_USER = Limit("code-user", 5, dt.timedelta(minutes=15))
# Failed client-credential grants for one client id.
TOKEN_PER_CLIENT = Limit("token-client", 10, dt.timedelta(minutes=15))


def _key(limit: Limit, parts: tuple[str, ...]) -> str:
    return hashlib.sha256("\x1f".join((limit.name, *parts)).encode()).hexdigest()


def exceeded(limit: Limit, *parts: str) -> bool:
    """Whether the attempts counted in the current window have reached the limit."""
    row = Throttle.objects.filter(key=_key(limit, parts)).first()
    if row is None or row.window_start + limit.window <= timezone.now():
        return False
    return row.count >= limit.attempts


def record_failure(limit: Limit, *parts: str) -> None:
    """Count one failed attempt, opening a new window when the last one has passed."""
    _count(limit, parts, capped=False)


def take(limit: Limit, *parts: str) -> bool:
    """Count one use if the window has room; False (nothing counted) when it is full.

    For quotas, where every use counts, not only failures.
    """
    return _count(limit, parts, capped=True)


def _count(limit: Limit, parts: tuple[str, ...], *, capped: bool) -> bool:
    now = timezone.now()
    with transaction.atomic():
        row, _ = Throttle.objects.select_for_update().get_or_create(
            key=_key(limit, parts), defaults={"window_start": now, "count": 0}
        )
        if row.window_start + limit.window <= now:
            row.window_start, row.count = now, 0
        if capped and row.count >= limit.attempts:
            return False
        row.count += 1
        row.save(update_fields=["window_start", "count"])
    return True


def clear(limit: Limit, *parts: str) -> None:
    Throttle.objects.filter(key=_key(limit, parts)).delete()
