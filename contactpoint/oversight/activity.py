"""What misuse detection reads: audited accesses (`Access`), the audit log's action names,
and each principal's window of accesses indexed by UK day (`UserWindow`), with the
searches of a day and whether each was followed up (docs/oversight.md).

The rules (contactpoint.oversight.rules) judge these; the nightly job
(contactpoint.oversight.detection) builds the accesses from the audit log's events.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from uuid import UUID
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

# Actions and outcomes as the audit log writes them (docs/audit.md).
SEARCH = "child:records:search"
VIEW = "child:record:view"
OPEN = "child:record:open"
EMERGENCY = "child:emergency-access:open"
INVOLVEMENT = "child:involvement:"
SIGN_IN = "access:sign-in:"
ALLOWED = "allowed"
REFUSED = "refused"

# Six weeks of history: low and slow compares the last fortnight with the one before,
# each child judged against the fortnight before it was looked at.
WINDOW_DAYS = 42
# Long enough to finish a phone call before opening the record; short enough that a
# later, unrelated look at the same child does not excuse a browsing search.
FOLLOW_UP_WINDOW = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class Access:
    """One audited event as the rules see it, with the facts the application adds."""

    at: datetime  # aware, UTC
    principal: str  # user:<id> or client:<id>
    role: str
    organisation_id: int | None
    action: str
    outcome: str = ALLOWED
    # The child, as the rules compare children: in detection the event's child tag as a
    # UUID (a pseudonym: contactpoint.oversight.detection.accesses), never shown.
    child_id: UUID | None = None
    request_id: str = ""  # groups the events of one search
    same_surname: bool = False  # the child's family name is the user's
    same_address: bool = False  # the child's postcode is the user's home postcode
    involved: bool = False  # the user's organisation has an active involvement with the child
    outside_area: bool = False  # no link to the council area of the user's organisation
    shielded: bool = False


# What the rules read: one principal's window, indexed by UK day. Most of it is worked out
# only when a rule needs it: a nightly job reads six weeks to judge one day.


@dataclass(frozen=True)
class Calendar:
    days: tuple[date, ...]  # the window's UK days, today last
    starts: tuple[datetime, ...]  # each day's midnight in UTC, then today's end

    @classmethod
    def ending(cls, today: date) -> Calendar:
        days = tuple(today - timedelta(days=n) for n in range(WINDOW_DAYS - 1, -1, -1))
        ends = (*days, today + timedelta(days=1))
        return cls(days, tuple(datetime.combine(d, time(), LONDON).astimezone(UTC) for d in ends))

    @property
    def today(self) -> int:
        return len(self.days) - 1


@dataclass(frozen=True)
class Search:
    at: datetime
    children: frozenset[UUID]  # shown
    followed: frozenset[UUID]  # of those, the ones looked at within FOLLOW_UP_WINDOW


@dataclass
class UserWindow:
    """One principal's accesses in the window, sorted by time, up to `now` (after today's
    end too: they may follow up a late search)."""

    principal: str
    role: str
    organisation_id: int | None
    accesses: list[Access]
    bounds: list[int]  # where each day starts in `accesses`, then where today ends

    def on(self, day: int) -> list[Access]:
        return self.accesses[self.bounds[day] : self.bounds[day + 1]]

    @cached_property
    def today(self) -> list[Access]:
        return self.on(len(self.bounds) - 2)

    @cached_property
    def known(self) -> set[UUID]:
        """Children in any of the user's accesses before today."""
        before = self.accesses[: self.bounds[-2]]
        return {a.child_id for a in before if a.child_id is not None}

    @cached_property
    def registered(self) -> set[UUID]:
        """Children whose involvement the user changed (registered, ...) in the window."""
        return {
            a.child_id
            for a in self.accesses
            if a.child_id is not None and a.action.startswith(INVOLVEMENT)
        }

    def searches(self, day: int) -> list[Search]:
        """The day's searches that showed a child, each with the children looked at soon
        after (one search is the events of one request)."""
        groups: dict[str | datetime, list[int]] = defaultdict(list)
        for i in range(self.bounds[day], self.bounds[day + 1]):
            a = self.accesses[i]
            if a.action == SEARCH and a.outcome == ALLOWED and a.child_id is not None:
                groups[a.request_id or a.at].append(i)
        return [self._followed_up(positions) for positions in groups.values()]

    def _followed_up(self, positions: list[int]) -> Search:
        at = self.accesses[positions[0]].at
        shown = frozenset(c for i in positions if (c := self.accesses[i].child_id) is not None)
        followed = set()
        i, end = positions[0], at + FOLLOW_UP_WINDOW
        while i < len(self.accesses) and self.accesses[i].at <= end:
            a = self.accesses[i]
            if a.child_id in shown and looked_at(a):
                followed.add(a.child_id)
            i += 1
        return Search(at, shown, frozenset(c for c in followed if c is not None))


def looked_at(access: Access) -> bool:
    """Whether the user chose to look at this child (not merely had it shown by a search)."""
    return access.outcome == ALLOWED and (
        access.action in (VIEW, EMERGENCY) or access.action.startswith(INVOLVEMENT)
    )


def windows(accesses: Iterable[Access], calendar: Calendar, now: datetime) -> list[UserWindow]:
    by_principal: dict[str, list[Access]] = defaultdict(list)
    start = calendar.starts[0]
    for access in accesses:
        if access.principal and start <= access.at < now:
            by_principal[access.principal].append(access)
    return [_window(sorted(own, key=_at), calendar) for own in by_principal.values()]


def _at(access: Access) -> datetime:
    return access.at


def _window(accesses: list[Access], calendar: Calendar) -> UserWindow:
    last = accesses[-1]
    bounds = [bisect_left(accesses, start, key=_at) for start in calendar.starts]
    return UserWindow(last.principal, last.role, last.organisation_id, accesses, bounds)
