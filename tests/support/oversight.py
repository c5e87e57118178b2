"""Hand-made accesses for the misuse rules, and judging them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict, Unpack
from uuid import UUID, uuid4

from contactpoint.oversight.activity import (
    INVOLVEMENT,
    LONDON,
    SEARCH,
    VIEW,
    Access,
)
from contactpoint.oversight.rules import (
    Alert,
    Baseline,
    Kind,
    detect,
)

ALICE = "user:alice"  # a practitioner at organisation 1
BOB = "user:bob"  # her colleague
ORGANISATION = 1
TUESDAY = date(2025, 3, 11)  # GMT
REGISTER = INVOLVEMENT + "register"


class Facts(TypedDict, total=False):
    same_surname: bool
    same_address: bool
    involved: bool
    outside_area: bool
    shielded: bool


def uk(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of a UK wall-clock time."""
    return datetime.combine(day, time(hour, minute), LONDON).astimezone(UTC)


def event(
    at: datetime,
    action: str = VIEW,
    child: UUID | None = None,
    *,
    who: str = ALICE,
    outcome: str = "allowed",
    request: str = "",
    same_surname: bool = False,
    same_address: bool = False,
    involved: bool = False,
    outside_area: bool = False,
    shielded: bool = False,
) -> Access:
    return Access(
        at,
        who,
        "practitioner",
        ORGANISATION,
        action,
        outcome,
        child,
        request,
        same_surname=same_surname,
        same_address=same_address,
        involved=involved,
        outside_area=outside_area,
        shielded=shielded,
    )


def search(at: datetime, *children: UUID, who: str = ALICE, **facts: Unpack[Facts]) -> list[Access]:
    """One search (one request) showing these children."""
    request = uuid4().hex
    return [event(at, SEARCH, c, who=who, request=request, **facts) for c in children]


def look(at: datetime, child: UUID, *, who: str = ALICE, **facts: Unpack[Facts]) -> list[Access]:
    """A search showing the child, then its record two minutes later."""
    opened = event(at + timedelta(minutes=2), VIEW, child, who=who, **facts)
    return [*search(at, child, who=who, **facts), opened]


def looks(
    day: date, children: Iterable[UUID], *, who: str = ALICE, **facts: Unpack[Facts]
) -> list[Access]:
    """Look at each child on `day`, ten minutes apart from 09:00."""
    start = uk(day, 9)
    return [
        access
        for n, child in enumerate(children)
        for access in look(start + timedelta(minutes=10 * n), child, who=who, **facts)
    ]


def weekdays_before(day: date, count: int) -> list[date]:
    """The `count` weekdays before `day`, oldest first."""
    found: list[date] = []
    while len(found) < count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            found.append(day)
    return found[::-1]


def kids(count: int) -> list[UUID]:
    return [uuid4() for _ in range(count)]


def judge(
    accesses: Iterable[Access],
    day: date = TUESDAY,
    *,
    history: Mapping[str, Baseline] | None = None,
    working_hours: Mapping[str, tuple[int, int]] | None = None,
) -> list[Alert]:
    """Run the nightly job for `day`, at 02:30 UK time the next morning."""
    now = uk(day + timedelta(days=1), 2, 30)
    return detect(accesses, history=history, working_hours=working_hours, now=now)


def of_kind(alerts: list[Alert], kind: Kind) -> list[Alert]:
    return [a for a in alerts if a.kind == kind]
