"""Misuse rules on registering involvements (docs/oversight.md).

Registering an involvement opens a child's contacts in full (address, NHS number, carers),
so it is the step a harvester needs after a search. Two patterns are raised, each judged
for one principal and the UK day judged, as the other rules are (contactpoint.oversight.
rules wraps these findings into alerts):

- registrations without follow-up: a week after a day's registrations, at least
  UNFOLLOWED_MIN of them (and more than the principal's habit) were ended again with no
  work on the child from the principal beyond reading its contacts at once: no
  confirmation, CAF, lead or handover, contact request, and no later look at the record
  (FOLLOW_UP_WINDOW after registering). Register, read, end is the pattern of a peek
  that would not leave the organisation listed on the child's record. A registration
  kept open is the organisation standing behind it (every service involved is told who
  joined and can call them), so it is not judged here, but it counts below.
- many registrations: more registrations (made or refused by the daily limit) in the day
  than the principal's own habit allows, and at least MANY_MIN.

Pure functions over `activity.UserWindow`; no I/O.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from contactpoint.oversight.activity import (
    ALLOWED,
    FOLLOW_UP_WINDOW,
    INVOLVEMENT,
    VIEW,
    Access,
    UserWindow,
)

REGISTER = INVOLVEMENT + "register"
END = INVOLVEMENT + "end"

# A registration is judged this many days after it was made: time enough for ordinary work
# (a call back, a CAF, a confirmation, another look) to show in the log.
FOLLOW_UP_DAYS = 7
# One registration ended again at once is a mistake (the wrong child); two in a day is
# a pattern.
UNFOLLOWED_MIN = 2
# Robust deviations above the principal's own median day: most end no registration idle
# on any day, so a small multiple.
UNFOLLOWED_K = 2.0
# A practitioner registers one or two new children on a busy day; five is a caseload
# transfer at most, and worth a look when it is far above the principal's habit.
MANY_MIN = 5
MANY_K = 5.0  # robust deviations above the principal's own median day
MIN_SPREAD = 1.0  # a very steady principal's spread is near 0: one more is not unusual
BASELINE_MIN_DAYS = 5  # fewer active days: MANY_MIN alone
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class Finding:
    reason: str
    children: tuple[UUID, ...]
    count: int


def judged_day(today: int) -> int:
    """The index of the day whose registrations are judged for follow-up on `today`."""
    return today - FOLLOW_UP_DAYS


def has_unfollowed_to_judge(user: UserWindow, today: int) -> bool:
    """Whether the principal registered on the day judged for follow-up (so they are judged
    even when they did nothing today: a harvester may have stopped)."""
    day = judged_day(today)
    return day >= 0 and any(_registered(a) for a in user.on(day))


def unfollowed(user: UserWindow, today: int) -> Finding | None:
    """Registrations made FOLLOW_UP_DAYS before `today` and ended with no follow-up, at
    least UNFOLLOWED_MIN and more than the principal's habit."""
    day = judged_day(today)
    if day < 0:
        return None
    later = _last_follow_ups(user)
    children = _unfollowed_on(user, day, later)
    if len(children) < UNFOLLOWED_MIN:
        return None  # below any threshold: spares working out the habit
    threshold, usual = _threshold(
        [len(_unfollowed_on(user, d, later)) for d in _active(user, day)],
        UNFOLLOWED_MIN,
        UNFOLLOWED_K,
    )
    if len(children) < threshold:
        return None
    reason = (
        f"registered with {_children(len(children))} {FOLLOW_UP_DAYS} days ago and ended "
        f"the involvements having only read their contacts ({usual}, threshold "
        f"{threshold:.0f})"
    )
    return Finding(reason, tuple(sorted(children)), len(children))


def _last_follow_ups(user: UserWindow) -> dict[UUID, tuple[datetime, datetime, datetime]]:
    """For each child, when the principal last changed its involvement (other than
    registering or ending), last viewed its record, and last ended its involvement; the
    minimum time for never."""
    never = datetime.min.replace(tzinfo=UTC)
    last: dict[UUID, tuple[datetime, datetime, datetime]] = {}
    for a in user.accesses:
        if a.child_id is None or a.outcome != ALLOWED:
            continue
        changed, viewed, ended = last.get(a.child_id, (never, never, never))
        if a.action == END:
            ended = a.at
        elif a.action.startswith(INVOLVEMENT) and a.action != REGISTER:
            changed = a.at
        elif a.action == VIEW:
            viewed = a.at
        last[a.child_id] = (changed, viewed, ended)
    return last


def _unfollowed_on(
    user: UserWindow, day: int, last: dict[UUID, tuple[datetime, datetime, datetime]]
) -> set[UUID]:
    """The children registered on `day` whose involvement was ended again with no work on
    the child in between or since."""
    found = set()
    for a in user.on(day):
        if _registered(a) and a.child_id is not None:
            changed, viewed, ended = last[a.child_id]
            idle = changed <= a.at and viewed <= a.at + FOLLOW_UP_WINDOW
            if idle and ended > a.at:
                found.add(a.child_id)
    return found


def _active(user: UserWindow, before: int) -> list[int]:
    return [d for d in range(before) if user.bounds[d] < user.bounds[d + 1]]


def _threshold(counts: list[int], floor: int, k: float) -> tuple[float, str]:
    """The floor, or the principal's median day plus `k` robust deviations when they
    have BASELINE_MIN_DAYS active days; and how the habit reads in a reason."""
    if len(counts) < BASELINE_MIN_DAYS:
        return float(floor), "no baseline yet"
    median = statistics.median(counts)
    spread = MAD_TO_SD * statistics.median(abs(c - median) for c in counts)
    return max(float(floor), median + k * max(spread, MIN_SPREAD)), (f"usually {median:g} a day")


def many(user: UserWindow, today: int) -> Finding | None:
    """More registrations in the day, made or refused by the limit, than usual."""
    count = _attempts(user.on(today))
    if count < MANY_MIN:
        return None  # below any threshold: spares working out the baseline
    threshold, usual = _threshold(
        [_attempts(user.on(d)) for d in _active(user, today)], MANY_MIN, MANY_K
    )
    if count < threshold:
        return None
    children = {a.child_id for a in user.on(today) if _registered(a) and a.child_id}
    reason = (
        f"registered or tried to register {count} involvements ({usual}, threshold {threshold:.0f})"
    )
    return Finding(reason, tuple(sorted(children)), count)


def _registered(access: Access) -> bool:
    return access.action == REGISTER and access.outcome == ALLOWED


def _attempts(accesses: list[Access]) -> int:
    return sum(1 for a in accesses if a.action == REGISTER)


def _follows_up(registration: Access, later: Access) -> bool:
    """Whether `later` is work on the registered child beyond reading its contacts at once."""
    if later.child_id != registration.child_id or later.outcome != ALLOWED:
        return False
    if later.action.startswith(INVOLVEMENT):
        return later.action not in (REGISTER, END)
    return later.action == VIEW and later.at > registration.at + FOLLOW_UP_WINDOW


def _children(count: int) -> str:
    return f"{count} child" if count == 1 else f"{count} children"
