"""Sliding-window attempt counters kept in the database, so every app server sees them.

A limit of N attempts in a window W refuses the next attempt while N attempts lie in the
last W, however the window falls: a guesser who waits for a fixed bucket to roll over
gets no second burst, as they would with fixed windows (5 just before the boundary and 5
just after). Each attempt is a row (`ThrottleAttempt`); rows older than the window are
deleted as the key is counted again, and rows older than a week whatever their key, with
the lock rows (`Throttle`) of keys left with no attempt.

Keys are digests: the tables never hold an e-mail address or an IP address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from contactpoint.access.models import Throttle, ThrottleAttempt

# Attempts older than this are deleted whatever their key (a guesser's one-off e-mails are
# never counted again), so no window may be longer.
KEPT = dt.timedelta(days=7)


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    window: dt.timedelta

    def __post_init__(self) -> None:
        if not dt.timedelta(0) < self.window <= KEPT:
            raise ValueError(f"a throttle window is longer than 0 and at most {KEPT}")


# Failed passwords for one e-mail from one address: a real user elsewhere is not locked out.
SIGNIN_PER_ACCOUNT_AND_ADDRESS = Limit("signin-account-address", 5, dt.timedelta(minutes=15))
# Failed passwords for one e-mail from anywhere: a guesser spreading over many addresses.
# Higher than the per-address limit, so one address's guesses alone never lock the
# account, but a botnet's are held to 20 an hour (the cost: the real user is held too).
SIGNIN_PER_ACCOUNT = Limit("signin-account", 20, dt.timedelta(hours=1))
# Failed passwords from one address, whatever the e-mail: stops spraying many accounts.
SIGNIN_PER_ADDRESS = Limit("signin-address", 30, dt.timedelta(hours=1))
# Wrong second-factor codes for one user, from any address (the password was right):
# 6 digits need ~10^5 tries, and at 5 per 15 minutes that is years.
CODE_PER_USER = Limit("code-user", 5, dt.timedelta(minutes=15))
# Failed client-credential grants for one client id.
TOKEN_PER_CLIENT = Limit("token-client", 10, dt.timedelta(minutes=15))


def _key(limit: Limit, parts: tuple[str, ...]) -> str:
    return hashlib.sha256("\x1f".join((limit.name, *parts)).encode()).hexdigest()


def _counted(key: str, limit: Limit, now: dt.datetime) -> int:
    return ThrottleAttempt.objects.filter(key=key, at__gt=now - limit.window).count()


def attempts(limit: Limit, *parts: str) -> int:
    """The attempts counted in the last `limit.window`."""
    return _counted(_key(limit, parts), limit, timezone.now())


def exceeded(limit: Limit, *parts: str) -> bool:
    """Whether the attempts in the last `limit.window` have reached the limit."""
    return attempts(limit, *parts) >= limit.attempts


def record_failure(limit: Limit, *parts: str) -> int:
    """Count one failed attempt; return the attempts now in the window."""
    return _count(limit, parts, capped=False)


def take(limit: Limit, *parts: str) -> bool:
    """Count one use if the window has room; False (nothing counted) when it is full.

    For quotas, where every use counts, not only failures.
    """
    return _count(limit, parts, capped=True) > 0


def take_all(counters: Sequence[tuple[Limit, str]]) -> bool:
    """Count one use under every (limit, key) if each window has room; False, with nothing
    counted, when any is full. The same as `take` of each in one transaction rolled back on
    a refusal, in a fixed number of statements whatever the number of counters (a search
    counts three quotas: done one by one they were 21 round trips to the database)."""
    now = timezone.now()
    keys = {_key(limit, (part,)): limit for limit, part in counters}
    with transaction.atomic():
        Throttle.objects.bulk_create([Throttle(key=k) for k in keys], ignore_conflicts=True)
        # Locked in the order of their keys, so two searches sharing an organisation's
        # counter cannot each hold a row the other waits for.
        list(Throttle.objects.select_for_update().filter(key__in=keys).order_by("key"))
        expired = Q()
        for key, limit in keys.items():
            expired |= Q(key=key, at__lte=now - limit.window)
        ThrottleAttempt.objects.filter(expired).delete()
        _prune(now, keep=keys)
        rows = ThrottleAttempt.objects.filter(key__in=keys).values_list("key").annotate(Count("id"))
        counted = Counter(dict(rows))
        if any(counted[key] >= limit.attempts for key, limit in keys.items()):
            return False
        ThrottleAttempt.objects.bulk_create(ThrottleAttempt(key=k, at=now) for k in keys)
    return True


def _count(limit: Limit, parts: tuple[str, ...], *, capped: bool) -> int:
    """Count an attempt under the key's lock row; 0 when capped and the window is full."""
    now, key = timezone.now(), _key(limit, parts)
    with transaction.atomic():
        Throttle.objects.select_for_update().get_or_create(key=key)
        ThrottleAttempt.objects.filter(key=key, at__lte=now - limit.window).delete()
        _prune(now, keep=key)
        counted = _counted(key, limit, now)
        if capped and counted >= limit.attempts:
            return 0
        ThrottleAttempt.objects.create(key=key, at=now)
    return counted + 1


def _prune(now: dt.datetime, *, keep: str | Iterable[str]) -> None:
    """Delete attempts older than `KEPT`, and the lock rows of the keys they leave empty.

    Only the keys whose last attempts are going are looked at, so each count does work in
    proportion to what has aged out since the last one, never a scan of every key.
    """
    stale = ThrottleAttempt.objects.filter(at__lte=now - KEPT)
    kept = {keep} if isinstance(keep, str) else set(keep)
    aged = set(stale.values_list("key", flat=True).distinct()) - kept
    stale.delete()
    if aged:
        still_counted = ThrottleAttempt.objects.filter(key__in=aged).values("key")
        Throttle.objects.filter(key__in=aged).exclude(key__in=still_counted).delete()


def clear(limit: Limit, *parts: str) -> None:
    key = _key(limit, parts)
    ThrottleAttempt.objects.filter(key=key).delete()
    Throttle.objects.filter(key=key).delete()
