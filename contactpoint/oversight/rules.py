"""Misuse detection: pure rules over audited accesses that raise alerts to the privacy
officer of the user's organisation (evaluated by benchmarks/eval_misuse.py).

A nightly job calls `detect` once a day, after 02:00 UK time, with the accesses of the
last WINDOW_DAYS up to `now`: audit events, each enriched by the application with facts
it works out when it writes or reads the event, without exposing plaintext
(`same_surname`, `same_address`, `involved`, `outside_area`, `shielded`). `detect`
judges the last complete UK calendar day before `now` ("today" below) and reads the
earlier days as each user's history: their usual volume, the children they already knew,
their usual rate of one-off look-ups, and their peers' habits.

Whether a search was followed up is worked out here from the sequence itself, not by the
caller: the events of one search (one request id) are followed up when the same principal
looked at one of the children it showed (viewed the record, changed an involvement, or
used emergency access) within FOLLOW_UP_WINDOW. That is why the accesses run up to `now`
and the job runs at least that long after midnight.

Each rule gives at most one alert per principal for the day, so an officer sees one
alert per (kind, user, day) whatever the number of events behind it. A pattern that goes
on (low and slow) is raised again on each day it continues; the alert store merges it
into the user's open alert of that kind.
"""

from __future__ import annotations

import enum
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from uuid import UUID

from contactpoint.access.permissions import Role
from contactpoint.oversight import guessing, registrations
from contactpoint.oversight.activity import (
    EMERGENCY,
    INVOLVEMENT,
    LONDON,
    OPEN,
    REFUSED,
    SIGN_IN,
    VIEW,
    Access,
    Calendar,
    Search,
    UserWindow,
    looked_at,
    windows,
)

# With fewer active days a user's own median means little (a new starter, someone back
# from leave): the fixed floors and ceilings apply instead.
BASELINE_MIN_DAYS = 5
# A median absolute deviation times this estimates a standard deviation.
MAD_TO_SD = 1.4826

# unusual_volume, on distinct children looked at in the day. Six robust deviations: an
# ordinary busy day reaches two or three.
VOLUME_K = 6.0
# A very steady user's spread is near 0; one more child than usual is not unusual.
VOLUME_MIN_SPREAD = 2.0
# Covering an absent colleague's caseload doubles a day's volume legitimately.
VOLUME_RATIO = 2.5
# No baseline yet: above any practitioner's ordinary day, below a harvest.
VOLUME_NEW_USER = 40

# no_follow_up, on searches that showed children of whom none was looked at. A few a day
# are ordinary: checking whether a child is known at all, a search that found the wrong
# child.
NO_FOLLOW_UP_MIN = 6
# Against the user's own habit, as for volume: some check the index far more than others.
NO_FOLLOW_UP_K = 5.0
NO_FOLLOW_UP_MIN_SPREAD = 1.0

# low_and_slow, on "first looks": records viewed of children new to the user (not looked
# at in the LOOKBACK_DAYS before) with whom neither their organisation nor they have an
# involvement. A caseload comes back and a referral gets registered; a snooper's targets
# do neither. Habits vary tenfold between users (an admissions officer checks many
# children once), so the last fortnight is compared with the user's own fortnight before,
# or with their peers' (same role and organisation) when they have no such history.
LOOKBACK_DAYS = 14
RECENT_DAYS = 14
LOW_SLOW_MIN = 12  # below this, a fortnight of ordinary one-off look-ups
LOW_SLOW_MIN_DAYS = 6  # spread over this many days: a one-day burst is unusual_volume's
LOW_SLOW_RATIO = 2.0  # and at least double the usual rate (per active day)...
LOW_SLOW_EXTRA = 10  # ...and ten more than expected, so a low rate's noise is not doubled
LOW_SLOW_MIN_PEERS = 8  # fewer peers than this in the organisation: the role everywhere

# One new child from across the border is a family that moved or a border school's
# pupil; two or more in a day from outside the area is a pattern worth a look.
OUTSIDE_AREA_MIN = 2
# One child out of hours is usually a note finished late; two or more is a session.
OUT_OF_HOURS_MIN = 2
# Around the role's hours, so finishing a few minutes late is not out of hours.
OUT_OF_HOURS_GRACE_MINUTES = 30
# A mistyped link or a wrong button gives one or two refusals; four is trying doors.
REFUSALS_MIN = 4

# Working hours, UK local time, Monday to Friday: (first hour, hour after the last).
# Keys are roles or principals (a principal's own rota wins). A key mapped to
# ROUND_THE_CLOCK (emergency duty) and a role absent from the map are never out of hours.
# Bank holidays are not known here: they count as working days.
ROUND_THE_CLOCK = (0, 24)
DEFAULT_WORKING_HOURS: Mapping[str, tuple[int, int]] = {role.value: (7, 19) for role in Role}


class Kind(enum.StrEnum):
    SAME_SURNAME_OR_ADDRESS = "same_surname_or_address"
    UNUSUAL_VOLUME = "unusual_volume"
    LOW_AND_SLOW = "low_and_slow"
    OUTSIDE_AREA = "outside_area"
    OUT_OF_HOURS = "out_of_hours"
    SHIELDED_PROBE = "shielded_probe"
    NO_FOLLOW_UP = "no_follow_up"
    EMERGENCY_ACCESS = "emergency_access"
    REPEATED_REFUSALS = "repeated_refusals"
    SECOND_FACTOR_GUESSING = "second_factor_guessing"
    REGISTRATIONS_NOT_FOLLOWED_UP = "registrations_not_followed_up"
    MANY_REGISTRATIONS = "many_registrations"


@dataclass(frozen=True)
class Alert:
    """One alert for the privacy officer of `organisation_id`: evidence by internal id only."""

    kind: Kind
    principal: str
    organisation_id: int | None
    day: date  # the UK day judged
    at: datetime  # when raised
    reason: str
    child_ids: tuple[UUID, ...] = ()
    count: int = 0


@dataclass(frozen=True)
class Baseline:
    """A user's usual day over their active days: median and robust spread (MAD scaled to a
    standard deviation) of the children they looked at and of their searches with no
    follow-up. A job may keep these rather than pass weeks of accesses (`history`)."""

    days: int
    children_median: float
    children_spread: float
    unfollowed_median: float
    unfollowed_spread: float

    @classmethod
    def of(cls, children: Sequence[int], unfollowed: Sequence[int]) -> Baseline:
        """Summarise per-day counts, one of each per active day."""
        return cls(len(children), *_median_and_spread(children), *_median_and_spread(unfollowed))


def _median_and_spread(values: Sequence[int]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    median = statistics.median(values)
    return median, MAD_TO_SD * statistics.median(abs(v - median) for v in values)


def detect(
    accesses: Iterable[Access],
    *,
    history: Mapping[str, Baseline] | None = None,
    working_hours: Mapping[str, tuple[int, int]] | None = None,
    now: datetime,
) -> list[Alert]:
    """Judge the last complete UK day before `now`; return its alerts, at most one per kind
    and principal, ordered by organisation, principal and kind.

    `accesses` in any order; those from before the window or at or after `now` are ignored.
    `history` replaces the baseline worked out from the accesses for the users it names.
    `working_hours` replaces DEFAULT_WORKING_HOURS.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    calendar = Calendar.ending(now.astimezone(LONDON).date() - timedelta(days=1))
    users = windows(accesses, calendar, now)
    context = _Context(
        now=now,
        calendar=calendar,
        hours=DEFAULT_WORKING_HOURS if working_hours is None else working_hours,
        history=history or {},
        trickles={},
    )
    context = replace(context, trickles=_trickles(users, context))
    alerts = [
        alert
        for user in users
        # A week-old registration is judged even if the principal did nothing today.
        if user.today or registrations.has_unfollowed_to_judge(user, context.today)
        for rule in RULES
        if (alert := rule(user, context)) is not None
    ]
    return sorted(alerts, key=lambda a: (a.organisation_id or 0, a.principal, a.kind))


@dataclass(frozen=True)
class _Trickle:
    """A user's first looks (see LOOKBACK_DAYS) in the last RECENT_DAYS, and what their
    own fortnight before (or their peers') leads one to expect."""

    recent: int
    days: int  # of the recent ones with a first look
    today: tuple[UUID, ...]
    expected: float  # in the recent fortnight, from the usual rate per active day
    usual: str  # where `expected` comes from, for the reason


@dataclass(frozen=True)
class _Context:
    now: datetime
    calendar: Calendar
    hours: Mapping[str, tuple[int, int]]
    history: Mapping[str, Baseline]
    trickles: Mapping[str, _Trickle]  # by principal

    @property
    def today(self) -> int:
        return self.calendar.today

    def working_hours(self, user: UserWindow) -> tuple[int, int] | None:
        return self.hours.get(user.principal) or self.hours.get(user.role)


def _baseline(user: UserWindow, context: _Context) -> Baseline:
    """The user's own baseline: given in `history`, or from their active days before today."""
    if user.principal in context.history:
        return context.history[user.principal]
    days = [d for d in range(context.today) if user.bounds[d] < user.bounds[d + 1]]
    return Baseline.of(
        [len(_looked_at_on(user.on(d))) for d in days],
        [_unfollowed(user.searches(d)) for d in days],
    )


def _looked_at_on(accesses: Iterable[Access]) -> set[UUID]:
    return {a.child_id for a in accesses if a.child_id is not None and looked_at(a)}


def _unfollowed(searches: Sequence[Search]) -> int:
    return sum(1 for s in searches if not s.followed)


def _first_looks(user: UserWindow, today: int) -> dict[int, list[int]]:
    """By day, from LOOKBACK_DAYS on: children (as ints, which hash faster) whose record the
    user viewed, not looked at by them in the LOOKBACK_DAYS before, with whom neither their
    organisation then nor they in the window had an involvement."""
    last: dict[int, int] = {}  # the day each child was last looked at
    involved: set[int] = set()
    found: dict[int, list[int]] = defaultdict(list)
    for day in range(today + 1):
        for a in user.on(day):
            if a.child_id is None or not looked_at(a):
                continue
            child = a.child_id.int
            new = day - last.get(child, day - LOOKBACK_DAYS - 1) > LOOKBACK_DAYS
            if a.action.startswith(INVOLVEMENT):
                involved.add(child)
            elif a.action == VIEW and new and not a.involved and day >= LOOKBACK_DAYS:
                found[day].append(child)
            last[child] = day
    return {day: [c for c in cs if c not in involved] for day, cs in found.items()}


def _trickles(users: Sequence[UserWindow], context: _Context) -> dict[str, _Trickle]:
    """Each user's first looks, against their own fortnight before or, with too few active
    days in it, their peers' median rate."""
    today = context.today
    recent = range(today - RECENT_DAYS + 1, today + 1)
    before = range(LOOKBACK_DAYS, recent.start)
    looks = {u.principal: _first_looks(u, today) for u in users}
    rates: dict[str, float | None] = {}
    for user in users:
        active = _active_days(user, before)
        total = sum(len(looks[user.principal].get(d, [])) for d in before)
        rates[user.principal] = total / active if active >= BASELINE_MIN_DAYS else None
    peers = _peer_rates(users, rates, context)
    trickles = {}
    for user in users:
        own = looks[user.principal]
        rate, usual = rates[user.principal], "their own fortnight before"
        if rate is None:
            rate, usual = peers[_team(user, context)], "their peers'"
        trickles[user.principal] = _Trickle(
            recent=sum(len(own.get(d, [])) for d in recent),
            days=sum(1 for d in recent if own.get(d)),
            today=tuple(UUID(int=c) for c in sorted(own.get(today, []))),
            expected=rate * _active_days(user, recent),
            usual=usual,
        )
    return trickles


def _active_days(user: UserWindow, days: range) -> int:
    return sum(1 for d in days if user.bounds[d] < user.bounds[d + 1])


def _team(user: UserWindow, context: _Context) -> tuple[int | None, str, bool]:
    """Whom a user is compared with: organisation, role, and whether on a round-the-clock
    rota (emergency duty sees children it will not see again by design)."""
    return user.organisation_id, user.role, context.working_hours(user) == ROUND_THE_CLOCK


def _peer_rates(
    users: Sequence[UserWindow], rates: Mapping[str, float | None], context: _Context
) -> dict[tuple[int | None, str, bool], float]:
    """The median rate of first looks of each team (see _team) with a rate, or of the role
    and rota everywhere when the team has fewer than LOW_SLOW_MIN_PEERS."""
    teams: dict[tuple[int | None, str, bool], list[float]] = defaultdict(list)
    everywhere: dict[tuple[str, bool], list[float]] = defaultdict(list)
    for user in users:
        if (rate := rates[user.principal]) is not None:
            team = _team(user, context)
            teams[team].append(rate)
            everywhere[team[1:]].append(rate)
    found = {}
    for user in users:
        team = _team(user, context)
        peers = teams.get(team, [])
        if len(peers) < LOW_SLOW_MIN_PEERS:
            peers = everywhere.get(team[1:], [])
        found[team] = statistics.median(peers) if peers else 0.0
    return found


# The rules: each judges one user's day and returns at most one alert.


def _alert(
    kind: Kind,
    user: UserWindow,
    context: _Context,
    reason: str,
    children: Iterable[UUID] = (),
    count: int = 0,
) -> Alert:
    return Alert(
        kind=kind,
        principal=user.principal,
        organisation_id=user.organisation_id,
        day=context.calendar.days[-1],
        at=context.now,
        reason=reason,
        child_ids=tuple(sorted(set(children))),
        count=count,
    )


def _same_surname_or_address(user: UserWindow, context: _Context) -> Alert | None:
    """A child new to the user who shares their surname or home postcode. A surname match
    counts when the user looked at the child, or searched and looked at no other child (a
    Smith searching for another Smith is not an alert); a postcode match always counts."""
    matches = [a for a in user.today if a.same_surname or a.same_address]
    if not matches:
        return None
    unprompted = {
        child
        for search in user.searches(context.today)
        for child in search.children
        if not search.followed - {child}
    }
    children = {
        a.child_id
        for a in matches
        if a.child_id is not None
        and a.child_id not in user.known
        and (a.same_address or _deliberate(a) or a.child_id in unprompted)
    }
    if not children:
        return None
    reason = f"looked up {_children(len(children))} sharing their surname or home postcode"
    return _alert(Kind.SAME_SURNAME_OR_ADDRESS, user, context, reason, children, len(children))


def _deliberate(access: Access) -> bool:
    return looked_at(access) or access.action == OPEN


def _unusual_volume(user: UserWindow, context: _Context) -> Alert | None:
    """More distinct children looked at than the user's own baseline allows."""
    count = len(_looked_at_on(user.today))
    if count < VOLUME_K * VOLUME_MIN_SPREAD:
        return None  # below any threshold: spares working out the baseline
    baseline = _baseline(user, context)
    if baseline.days < BASELINE_MIN_DAYS:
        threshold = float(VOLUME_NEW_USER)
        usual = "no baseline yet"
    else:
        median, spread = baseline.children_median, baseline.children_spread
        threshold = max(median + VOLUME_K * max(spread, VOLUME_MIN_SPREAD), VOLUME_RATIO * median)
        usual = f"usually {median:g} a day"
    if count < threshold:
        return None
    reason = f"looked at {_children(count)} in a day ({usual}, threshold {threshold:.0f})"
    return _alert(Kind.UNUSUAL_VOLUME, user, context, reason, count=count)


def _low_and_slow(user: UserWindow, context: _Context) -> Alert | None:
    """Children new to the user and nobody's case, a few a day for a fortnight, far more
    than usual for them; raised each day it goes on."""
    trickle = context.trickles[user.principal]
    expected = trickle.expected
    threshold = max(LOW_SLOW_MIN, LOW_SLOW_RATIO * expected, expected + LOW_SLOW_EXTRA)
    if trickle.recent < threshold or trickle.days < LOW_SLOW_MIN_DAYS or not trickle.today:
        return None
    reason = (
        f"viewed {_children(trickle.recent)} new to them, with no involvement, on "
        f"{trickle.days} days in {RECENT_DAYS} (expected {expected:.0f} from "
        f"{trickle.usual}, threshold {threshold:.0f})"
    )
    return _alert(Kind.LOW_AND_SLOW, user, context, reason, trickle.today, trickle.recent)


def _outside_area(user: UserWindow, context: _Context) -> Alert | None:
    """Children outside the area of the user's organisation, new to the user today, with
    whom neither their organisation nor they have an involvement (a border school's
    pupils are its own; a referral from across the border gets registered)."""
    children = {
        a.child_id
        for a in user.today
        if a.child_id is not None and a.outside_area and not a.involved and looked_at(a)
    }
    children -= user.known | user.registered
    if len(children) < OUTSIDE_AREA_MIN:
        return None
    reason = f"looked at {_children(len(children))} outside their organisation's area"
    return _alert(Kind.OUTSIDE_AREA, user, context, reason, children, len(children))


def _out_of_hours(user: UserWindow, context: _Context) -> Alert | None:
    """Children looked at outside the working hours of the user's role (or own rota)."""
    hours = context.working_hours(user)
    if hours is None or hours == ROUND_THE_CLOCK:
        return None
    children = {
        a.child_id
        for a in user.today
        if a.child_id is not None and looked_at(a) and not in_working_hours(a.at, hours)
    }
    if len(children) < OUT_OF_HOURS_MIN:
        return None
    start, end = hours
    reason = (
        f"looked at {_children(len(children))} outside working hours "
        f"({start:02d}:00-{end:02d}:00 Monday to Friday, UK time)"
    )
    return _alert(Kind.OUT_OF_HOURS, user, context, reason, children, len(children))


def in_working_hours(at: datetime, hours: tuple[int, int]) -> bool:
    """Whether `at` falls in `hours` on a weekday, UK time, give or take the grace."""
    local = at.astimezone(LONDON)
    if local.weekday() >= 5:
        return False
    minutes = local.hour * 60 + local.minute
    start, end = hours
    grace = OUT_OF_HOURS_GRACE_MINUTES
    return start * 60 - grace <= minutes < end * 60 + grace


def _shielded_probe(user: UserWindow, context: _Context) -> Alert | None:
    """Any refused attempt to open a shielded child's record."""
    children = {
        a.child_id
        for a in user.today
        if a.child_id is not None and a.action == OPEN and a.outcome == REFUSED and a.shielded
    }
    if not children:
        return None
    reason = f"tried to open the record of {_children(len(children), 'shielded child')}"
    return _alert(Kind.SHIELDED_PROBE, user, context, reason, children, len(children))


def _no_follow_up(user: UserWindow, context: _Context) -> Alert | None:
    """More searches that showed children, none of whom was looked at, than usual."""
    count = _unfollowed(user.searches(context.today))
    if count < NO_FOLLOW_UP_MIN:
        return None  # below any threshold: spares working out the baseline
    baseline = _baseline(user, context)
    median, spread = baseline.unfollowed_median, baseline.unfollowed_spread
    if baseline.days < BASELINE_MIN_DAYS:
        median, spread = 0.0, 0.0
    threshold = max(
        NO_FOLLOW_UP_MIN, median + NO_FOLLOW_UP_K * max(spread, NO_FOLLOW_UP_MIN_SPREAD)
    )
    if count < threshold:
        return None
    reason = (
        f"{count} searches showed children and none was looked at "
        f"(usually {median:g} a day, threshold {threshold:.0f})"
    )
    return _alert(Kind.NO_FOLLOW_UP, user, context, reason, count=count)


def _emergency_access(user: UserWindow, context: _Context) -> Alert | None:
    """Every emergency access, for review."""
    children = {a.child_id for a in user.today if a.child_id is not None and a.action == EMERGENCY}
    if not children:
        return None
    reason = f"used emergency access to the record of {_children(len(children))}"
    return _alert(Kind.EMERGENCY_ACCESS, user, context, reason, children, len(children))


def _repeated_refusals(user: UserWindow, context: _Context) -> Alert | None:
    """Requests refused, other than sign-in (a wrong password is the sign-in throttle's
    business, and may not even be the user; wrong second factors have their own rule)."""
    count = sum(1 for a in user.today if a.outcome == REFUSED and not a.action.startswith(SIGN_IN))
    if count < REFUSALS_MIN:
        return None
    return _alert(Kind.REPEATED_REFUSALS, user, context, f"{count} requests refused", count=count)


def _second_factor_guessing(user: UserWindow, context: _Context) -> Alert | None:
    """Wrong second factors after the right password (contactpoint.oversight.guessing)."""
    found = guessing.found(user.today)
    if found is None:
        return None
    reason = guessing.reason(found)
    return _alert(Kind.SECOND_FACTOR_GUESSING, user, context, reason, count=found.refused)


def _registrations_not_followed_up(user: UserWindow, context: _Context) -> Alert | None:
    """A day's registrations with no work on the child after them (registrations.py)."""
    found = registrations.unfollowed(user, context.today)
    if found is None:
        return None
    kind = Kind.REGISTRATIONS_NOT_FOLLOWED_UP
    return _alert(kind, user, context, found.reason, found.children, found.count)


def _many_registrations(user: UserWindow, context: _Context) -> Alert | None:
    """More registrations in the day than the principal's habit (registrations.py)."""
    found = registrations.many(user, context.today)
    if found is None:
        return None
    kind = Kind.MANY_REGISTRATIONS
    return _alert(kind, user, context, found.reason, found.children, found.count)


def _children(count: int, noun: str = "child") -> str:
    plural = noun.replace("child", "children")
    return f"{count} {noun if count == 1 else plural}"


RULES: tuple[Callable[[UserWindow, _Context], Alert | None], ...] = (
    _same_surname_or_address,
    _unusual_volume,
    _low_and_slow,
    _outside_area,
    _out_of_hours,
    _shielded_probe,
    _no_follow_up,
    _emergency_access,
    _repeated_refusals,
    _second_factor_guessing,
    _registrations_not_followed_up,
    _many_registrations,
)
