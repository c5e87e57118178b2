"""Evaluate misuse detection (contactpoint.oversight.rules) on a synthetic month: recall
and precision per kind of misuse, and alerts per privacy officer per day.

Usage: .venv/bin/python benchmarks/eval_misuse.py [--seed 1] [--organisations 20]
       [--practitioners 50] [--cases 10] [--json PATH]

Targets (issue 6): recall at least 0.9 for every kind, at most 20 alerts per officer a day.

The month is 30 days from Monday 3 March 2025, so it spans the UK clock change of 30 March;
the 42 days before it are generated the same way, with no misuse, as the history the
nightly job would have. Detection runs as that job would: once for each day of the
month, at 02:30 UK time the next morning, over the accesses of the previous six weeks.

Normal activity. Each organisation has its own council area of 10,000 children (20 of
them shielded) over 15,000 postcodes, surnames drawn from a long-tailed distribution in
which the commonest covers about 1% of people (so some staff are Smiths and meet Smith
children). Each organisation has `--practitioners` practitioners, 3 local index team
members and 2 emergency-duty workers. Every user has their own habits, drawn once:
- practitioners work weekdays (92% attendance, a fifth part-time at 60%) between their
  own start (about 08:10) and end (about 16:50) with daily jitter; one in ten works late
  on 30% of days (until 18:30-20:15) and one in 25 works some Saturday mornings;
- a caseload of 5 to 10 days' worth of children, of whom a lognormal number (median 4 a
  day) are looked at each working day: a search showing the child and up to three others
  (often of the same surname), then the record; now and then an involvement change;
- new referrals (median 0.25 a day: search, view, register), one-off checks with no
  involvement (median 0.25 a day), searches not followed up (median 0.5 a day);
- border teams (15% of practitioners) draw 10-30% of their new children from a
  neighbouring area, others 2%; one in 20 lives among the children they work with and
  sometimes meets a neighbour's child at work;
- busy days (6%, 1.7-3 times the usual volume), refused requests by mistake (most
  users 0.05 a day, one in 12 confused users 0.6), mistyped passwords, a code or two
  typed as it changed (3% of days), the odd
  legitimate emergency access (0.15% of working days) and the odd stale link to a child
  since shielded (0.08%);
- two episodes a month per organisation of a practitioner covering an absent
  colleague's caseload for 5-10 working days, on top of their own;
- the local index team checks data quality: many one-off record views (3-8 a day);
- an organisation is involved (the `involved` fact) with every child on its staff's
  caseloads and with each child one of them registers;
- emergency-duty workers (on a round-the-clock rota, exempt from working hours) work
  half the days in day, evening or night shifts, look at children anywhere in the area
  and sometimes beyond, register half of them, and use emergency access on 15% of shifts.

Misuse. `--cases` practitioners per kind (each doing one kind, on top of their normal
work; labelled by kind, user and UK day):
- same_surname_or_address: looks up a relative or neighbour, a child new to them: 70%
  share the surname (half of those the home postcode too, and 30% of the others live in
  another area), 30% only the home postcode; opens the record 85% of the time, otherwise
  only searches;
- unusual_volume: searches and opens 20-80 children of their area in one sitting;
- low_and_slow: from a day in the first week to the end of the month, 1-4 children of
  their area each weekday, searched and opened, never again;
- outside_area: opens 2-5 children from other areas in a day;
- out_of_hours: opens 2-5 children (half from their caseload) on a weeknight from 21:00
  or on a weekend day;
- shielded_probe: 1-3 refused attempts to open shielded children's records;
- no_follow_up: 8-25 searches in a day, each showing 1-4 children, none opened;
- emergency_access: one emergency access to a child of their area;
- repeated_refusals: 5-15 refused requests in a day (pages beyond their role, records
  not found by a search, the search quota);
- second_factor_guessing: the right password, then 3-5 wrong second-factor codes, at one
  or two sittings in a day at any hour.

Scoring. An alert is correct when a case of its kind has its user and day (a low-and-slow
case covers every day from its start). Emergency access is alerted by design, every time:
an alert on a legitimate one is a review the rule exists to prompt, not a false alarm, so
it counts as correct; the table says how many were misuse. Precision counts alerts, and a
low-and-slow case is raised on each day it goes on, so the table also gives how many
distinct users the wrong alerts of each kind fell on. Alerts of one kind on a day of
another kind of misuse by the same user are wrong for their kind, and counted apart. A
case is found when at least one correct alert has its user and kind.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import pathlib
import random
import time as timer
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import count

from contactpoint.oversight import activity, registrations, rules
from contactpoint.oversight.activity import Access
from contactpoint.oversight.guessing import CODE_STEP
from contactpoint.oversight.rules import Alert, Kind

START = date(2025, 3, 3)  # a Monday
DAYS = 30
WARM_UP = activity.WINDOW_DAYS
CHILDREN_PER_AREA = 10000
SHIELDED_PER_AREA = 20
POSTCODES_PER_AREA = 15000
SURNAMES = 50000
INDEX_TEAM = 3
EMERGENCY_DUTY = 2
COVER_EPISODES = 2  # per organisation, per 30 days
EMERGENCY_DUTY_HOURS = {"day": (8.0, 17.0), "evening": (17.0, 24.0), "night": (22.0, 32.0)}
REFUSED_ACTIONS = (
    "access:area:users:manage",
    "access:area:shielded-children:read",
    "access:national:users:read",
    "access:organisation:users:read",
)
INVOLVEMENT_CHANGES = (
    "child:involvement:confirm",
    "child:involvement:caf",
    "child:involvement:lead",
)


@dataclass(frozen=True)
class Child:
    id: uuid.UUID
    area: int  # the organisation whose council area the child lives in
    surname: int  # rank in the surname distribution
    postcode: int  # within the area
    shielded: bool = False


@dataclass
class User:
    principal: str
    role: str
    organisation: int
    duty: str  # practitioner, index_team, emergency_duty
    surname: int
    home: tuple[int, int]  # (area, postcode)
    start: float  # habitual UK hours, as decimal hours
    end: float
    late: float  # share of days worked late
    saturday: float  # chance of working a Saturday morning
    attendance: float  # chance of working a weekday
    rate: float  # caseload children looked at a working day
    new_rate: float
    check_rate: float
    idle_rate: float
    refusal_rate: float
    border: float  # share of new children from a neighbouring area
    neighbourly: bool  # lives among the children they work with
    caseload: list[Child] = field(default_factory=list)


@dataclass(frozen=True)
class Case:
    kind: Kind
    principal: str
    organisation: int
    days: frozenset[date]


@dataclass
class Score:
    cases: int = 0
    found: int = 0
    alerts: int = 0
    correct: int = 0
    by_design: int = 0  # emergency accesses that were not misuse, alerted by design
    other_misuse: int = 0  # wrong for the kind, but on a day of another kind of misuse
    wrongly_flagged: set[str] = field(default_factory=set)  # users of the wrong alerts

    @property
    def recall(self) -> float:
        return self.found / self.cases if self.cases else math.nan

    @property
    def precision(self) -> float:
        return (self.correct + self.by_design) / self.alerts if self.alerts else math.nan


@dataclass
class Result:
    scores: dict[Kind, Score]
    load: list[int]  # alerts per officer per day, one per organisation and day
    events: int
    generated: float  # seconds
    detected: float

    def as_dict(self) -> dict[str, object]:
        kinds = {
            kind.value: {
                **vars(score),
                "wrongly_flagged": len(score.wrongly_flagged),
                "recall": score.recall,
                "precision": score.precision,
            }
            for kind, score in self.scores.items()
        }
        load = {"mean": sum(self.load) / len(self.load), "max": max(self.load)}
        return {"kinds": kinds, "alerts_per_officer_per_day": load, "events": self.events}


def local(day: date, hour: float) -> datetime:
    """The UTC instant of `hour` (decimal, may pass 24) on the UK wall clock of `day`."""
    wall = datetime.combine(day, time(), activity.LONDON) + timedelta(hours=hour)
    return wall.astimezone(UTC)


def poisson(rng: random.Random, mean: float) -> int:
    """Draw from a Poisson distribution (Knuth's method; means here stay small)."""
    limit, n, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        n += 1
        product *= rng.random()
    return n


def lognormal(rng: random.Random, median: float, sigma: float, low: float, high: float) -> float:
    return min(high, max(low, rng.lognormvariate(math.log(median), sigma)))


class Month:
    """The synthetic month: areas, users, their accesses and the labelled misuse."""

    def __init__(self, seed: int, organisations: int, practitioners: int) -> None:
        self.rng = random.Random(seed)
        self.accesses: list[Access] = []
        self.cases: list[Case] = []
        self.requests = count()
        self.surname_weights = list(_cumulative(1 / (rank + 10) for rank in range(SURNAMES)))
        self.areas = [self.area(o) for o in range(organisations)]
        self.by_surname = [_by_surname(area) for area in self.areas]
        self.involved: list[set[uuid.UUID]] = [set() for _ in range(organisations)]
        self.users = [
            user for o in range(organisations) for user in self.organisation(o, practitioners)
        ]
        self.covers = self.cover_episodes(organisations)
        for user in self.users:
            self.involved[user.organisation].update(c.id for c in user.caseload)

    # The population.

    def surname(self) -> int:
        return bisect.bisect(self.surname_weights, self.rng.random() * self.surname_weights[-1])

    def child(self, area: int, *, shielded: bool = False) -> Child:
        postcode = self.rng.randrange(POSTCODES_PER_AREA)
        child_id = uuid.UUID(int=self.rng.getrandbits(128), version=4)
        return Child(child_id, area, self.surname(), postcode, shielded)

    def area(self, organisation: int) -> list[Child]:
        ordinary = [self.child(organisation) for _ in range(CHILDREN_PER_AREA)]
        return ordinary + [
            self.child(organisation, shielded=True) for _ in range(SHIELDED_PER_AREA)
        ]

    def visible(self, area: int) -> Child:
        """A random child of the area who is not shielded (a search can show them)."""
        return self.areas[area][self.rng.randrange(CHILDREN_PER_AREA)]

    def neighbour(self, organisation: int) -> int:
        return (organisation + self.rng.choice((-1, 1))) % len(self.areas)

    def organisation(self, o: int, practitioners: int) -> Iterator[User]:
        for n in range(practitioners):
            yield self.practitioner(o, f"user:{o}-{n}")
        for n in range(INDEX_TEAM):
            yield self.index_team(o, f"user:{o}-index-{n}")
        for n in range(EMERGENCY_DUTY):
            yield self.emergency_duty(o, f"user:{o}-duty-{n}")

    def practitioner(self, o: int, principal: str) -> User:
        rng = self.rng
        late = rng.random() < 0.1
        user = User(
            principal=principal,
            role="practitioner",
            organisation=o,
            duty="practitioner",
            surname=self.surname(),
            home=(
                o if rng.random() < 0.8 else self.neighbour(o),
                rng.randrange(POSTCODES_PER_AREA),
            ),
            start=min(9.75, max(7.0, rng.gauss(8.2, 0.5))),
            end=min(18.75, max(15.0, rng.gauss(16.8, 0.7))),
            late=0.3 if late else 0.0,
            saturday=0.25 if rng.random() < 0.04 else 0.0,
            attendance=0.6 if rng.random() < 0.2 else 0.92,
            rate=lognormal(rng, 4, 0.5, 1, 16),
            new_rate=lognormal(rng, 0.25, 0.5, 0.02, 2),
            check_rate=lognormal(rng, 0.25, 0.7, 0.02, 2),
            idle_rate=lognormal(rng, 0.5, 0.7, 0.05, 3),
            refusal_rate=0.6 if rng.random() < 1 / 12 else 0.05,
            border=rng.uniform(0.1, 0.3) if rng.random() < 0.15 else 0.02,
            neighbourly=rng.random() < 0.05,
        )
        self.fill_caseload(user, round(user.rate * rng.uniform(5, 10)))
        return user

    def index_team(self, o: int, principal: str) -> User:
        user = self.practitioner(o, principal)
        user.role, user.duty = "index_team", "index_team"
        user.rate, user.check_rate = user.rate / 2, self.rng.uniform(3, 8)
        user.saturday, user.border = 0.0, 0.0  # their own area's records
        return user

    def emergency_duty(self, o: int, principal: str) -> User:
        user = self.practitioner(o, principal)
        user.duty, user.attendance, user.saturday = "emergency_duty", 0.5, 0.0
        user.rate, user.caseload = self.rng.uniform(2, 6), []
        return user

    def fill_caseload(self, user: User, size: int) -> None:
        for _ in range(max(3, size)):
            user.caseload.append(self.new_child(user))

    def new_child(self, user: User) -> Child:
        """A child new to the user: from their area, a neighbour's, or their own street."""
        area, postcode = user.home
        if user.neighbourly and area == user.organisation and self.rng.random() < 0.03:
            child = self.child(area)
            return Child(child.id, area, child.surname, postcode)
        if self.rng.random() < user.border:
            return self.visible(self.neighbour(user.organisation))
        return self.visible(user.organisation)

    def cover_episodes(self, organisations: int) -> dict[tuple[str, date], User]:
        """Who covers whose caseload on which day."""
        covers: dict[tuple[str, date], User] = {}
        first = START - timedelta(days=WARM_UP)
        episodes = round(COVER_EPISODES * (WARM_UP + DAYS) / 30)
        for o in range(organisations):
            staff = [u for u in self.users if u.organisation == o and u.duty == "practitioner"]
            for _ in range(episodes):
                covering, absent = self.rng.sample(staff, 2)
                day = first + timedelta(days=self.rng.randrange(WARM_UP + DAYS - 14))
                for weekday in _weekdays(day, self.rng.randint(5, 10)):
                    covers[covering.principal, weekday] = absent
        return covers

    # Events.

    def emit(
        self,
        user: User,
        at: datetime,
        action: str,
        child: Child | None = None,
        *,
        outcome: str = activity.ALLOWED,
        request_id: str = "",
    ) -> None:
        facts = {}
        if child is not None:
            facts = {
                "same_surname": child.surname == user.surname,
                "same_address": (child.area, child.postcode) == user.home,
                "outside_area": child.area != user.organisation,
                "shielded": child.shielded,
                "involved": child.id in self.involved[user.organisation],
            }
        self.accesses.append(
            Access(
                at,
                user.principal,
                user.role,
                user.organisation,
                action,
                outcome,
                None if child is None else child.id,
                request_id,
                **facts,
            )
        )

    def search(self, user: User, at: datetime, child: Child | None) -> None:
        """A search that shows `child` and up to three others, often of the same surname."""
        request = f"r{next(self.requests)}"
        shown = [] if child is None else [child, *self.similar(child)]
        for each in shown:
            self.emit(user, at, activity.SEARCH, each, request_id=request)
        if not shown:
            self.emit(user, at, activity.SEARCH, request_id=request)

    def similar(self, child: Child) -> list[Child]:
        others = self.rng.choices((0, 1, 2, 3), weights=(45, 30, 15, 10))[0]
        namesakes = [c for c in self.by_surname[child.area].get(child.surname, []) if c != child]
        if len(namesakes) >= others and self.rng.random() < 0.6:
            return self.rng.sample(namesakes, others)
        return [self.visible(child.area) for _ in range(others)]

    def look(
        self, user: User, child: Child, at: datetime, *, action: str = activity.VIEW, then: str = ""
    ) -> None:
        """Search for a child, then open the record (or use emergency access), then maybe
        change an involvement."""
        self.search(user, at, child)
        at += timedelta(minutes=self.rng.uniform(0.5, 6))
        self.emit(user, at, action, child)
        if then:
            self.emit(user, at + timedelta(minutes=self.rng.uniform(1, 10)), then, child)
            self.involved[user.organisation].add(child.id)

    def when(self, day: date, hours: tuple[float, float]) -> datetime:
        return local(day, self.rng.uniform(*hours))

    # Normal days.

    def working_hours(self, user: User, day: date) -> tuple[float, float] | None:
        """The hours the user works on `day`, or None on a day off."""
        rng = self.rng
        if user.duty == "emergency_duty":
            shift = rng.choice(list(EMERGENCY_DUTY_HOURS))
            return EMERGENCY_DUTY_HOURS[shift] if rng.random() < user.attendance else None
        if day.weekday() == 5:
            return (9.0, 12.5) if rng.random() < user.saturday else None
        if day.weekday() == 6 or rng.random() > user.attendance:
            return None
        start = user.start + rng.gauss(0, 0.3)
        end = rng.uniform(18.5, 20.25) if rng.random() < user.late else user.end
        return start, max(start + 2, end + rng.gauss(0, 0.4))

    def normal_day(self, user: User, day: date) -> None:
        hours = self.working_hours(user, day)
        if hours is None:
            return
        busy = self.rng.uniform(1.7, 3) if self.rng.random() < 0.06 else 1.0
        if user.duty == "emergency_duty":
            self.duty_shift(user, day, hours)
        else:
            self.caseload_work(user, user, day, hours, busy)
            if (absent := self.covers.get((user.principal, day))) is not None:
                self.caseload_work(user, absent, day, hours, 1.0)
            self.new_children(user, day, hours)
        self.slips(user, day, hours)

    def caseload_work(
        self, user: User, owner: User, day: date, hours: tuple[float, float], busy: float
    ) -> None:
        for _ in range(poisson(self.rng, owner.rate * busy)):
            then = self.rng.choice(INVOLVEMENT_CHANGES) if self.rng.random() < 0.04 else ""
            self.look(user, self.rng.choice(owner.caseload), self.when(day, hours), then=then)
        for _ in range(poisson(self.rng, user.idle_rate * busy)):
            child = None if self.rng.random() < 0.3 else self.new_child(user)
            self.search(user, self.when(day, hours), child)

    def new_children(self, user: User, day: date, hours: tuple[float, float]) -> None:
        for _ in range(poisson(self.rng, user.new_rate)):
            child = self.new_child(user)
            at = self.when(day, hours)
            self.look(user, child, at, then="child:involvement:register")
            user.caseload[self.rng.randrange(len(user.caseload))] = child  # one case closes
        for _ in range(poisson(self.rng, user.check_rate)):
            self.look(user, self.new_child(user), self.when(day, hours))

    def duty_shift(self, user: User, day: date, hours: tuple[float, float]) -> None:
        for _ in range(poisson(self.rng, user.rate)):
            far = self.rng.random() < 0.05
            child = self.visible(self.neighbour(user.organisation) if far else user.organisation)
            then = "child:involvement:register" if self.rng.random() < 0.5 else ""
            self.look(user, child, self.when(day, hours), then=then)
        if self.rng.random() < 0.15:
            child = self.visible(user.organisation)
            self.look(user, child, self.when(day, hours), action=activity.EMERGENCY)

    def slips(self, user: User, day: date, hours: tuple[float, float]) -> None:
        """Refusals by mistake, mistyped passwords, the odd emergency or stale link."""
        rng = self.rng
        for _ in range(poisson(rng, user.refusal_rate)):
            self.emit(user, self.when(day, hours), rng.choice(REFUSED_ACTIONS), outcome="refused")
        for _ in range(poisson(rng, 0.1)):
            self.emit(user, self.when(day, hours), "access:sign-in:password", outcome="refused")
        if rng.random() < 0.03:  # a code typed as it changed, once or twice
            at = self.when(day, hours)
            self.emit(user, at, "access:sign-in:password")
            for n in range(rng.randint(1, 2)):
                self.emit(user, at + timedelta(seconds=20 * (n + 1)), CODE_STEP, outcome="refused")
        if user.duty != "emergency_duty" and rng.random() < 0.0015:
            self.look(
                user,
                self.visible(user.organisation),
                self.when(day, hours),
                action=activity.EMERGENCY,
            )
        if rng.random() < 0.0008:
            shielded = self.areas[user.organisation][
                CHILDREN_PER_AREA + rng.randrange(SHIELDED_PER_AREA)
            ]
            self.emit(user, self.when(day, hours), activity.OPEN, shielded, outcome="refused")

    def generate(self) -> None:
        first = START - timedelta(days=WARM_UP)
        for offset in range(WARM_UP + DAYS):
            day = first + timedelta(days=offset)
            for user in self.users:
                self.normal_day(user, day)


def _cumulative(weights: Iterator[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def _by_surname(area: list[Child]) -> dict[int, list[Child]]:
    found: dict[int, list[Child]] = defaultdict(list)
    for child in area[:CHILDREN_PER_AREA]:
        found[child.surname].append(child)
    return found


def _weekdays(first: date, count: int) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


# Misuse: one function per kind; each returns the UK days of its case.


def _working_hours(user: User) -> tuple[float, float]:
    return user.start, user.end


def relative(month: Month, user: User, day: date) -> set[date]:
    rng = month.rng
    surname = rng.random() < 0.7
    address = not surname or rng.random() < 0.5
    area = (
        user.home[0]
        if address
        else (user.organisation if rng.random() < 0.7 else month.neighbour(user.organisation))
    )
    child = month.child(area)
    child = Child(
        child.id,
        area,
        user.surname if surname else child.surname,
        user.home[1] if address else child.postcode,
    )
    at = month.when(day, _working_hours(user))
    if rng.random() < 0.85:
        month.look(user, child, at)
    else:
        month.search(user, at, child)
    return {day}


def harvest(month: Month, user: User, day: date) -> set[date]:
    start = month.rng.uniform(user.start, user.end - 3)
    for _ in range(month.rng.randint(20, 80)):
        month.look(user, month.visible(user.organisation), month.when(day, (start, start + 3)))
    return {day}


def trickle(month: Month, user: User, day: date) -> set[date]:
    start = START + timedelta(days=month.rng.randrange(7))
    end = START + timedelta(days=DAYS - 1)
    day = start
    while day <= end:
        if day.weekday() < 5:
            for _ in range(month.rng.randint(1, 4)):
                month.look(
                    user, month.visible(user.organisation), month.when(day, _working_hours(user))
                )
        day += timedelta(days=1)
    return {start + timedelta(days=n) for n in range((end - start).days + 1)}


def across_border(month: Month, user: User, day: date) -> set[date]:
    for _ in range(month.rng.randint(2, 5)):
        area = month.rng.choice([a for a in range(len(month.areas)) if a != user.organisation])
        month.look(user, month.visible(area), month.when(day, _working_hours(user)))
    return {day}


def night(month: Month, user: User, day: date) -> set[date]:
    rng = month.rng
    if rng.random() < 0.5:
        day += timedelta(days=5 - day.weekday() + rng.randrange(2))  # that week's weekend
        hours = (10.0, 22.0)
    else:
        hours = (21.0, 23.9)
    for _ in range(rng.randint(2, 5)):
        child = (
            rng.choice(user.caseload) if rng.random() < 0.5 else month.visible(user.organisation)
        )
        month.look(user, child, month.when(day, hours))
    return {day}


def probe(month: Month, user: User, day: date) -> set[date]:
    shielded = month.areas[user.organisation][CHILDREN_PER_AREA:]
    for child in month.rng.sample(shielded, month.rng.randint(1, 3)):
        month.emit(
            user, month.when(day, _working_hours(user)), activity.OPEN, child, outcome="refused"
        )
    return {day}


def browse(month: Month, user: User, day: date) -> set[date]:
    for _ in range(month.rng.randint(8, 25)):
        month.search(user, month.when(day, _working_hours(user)), month.visible(user.organisation))
    return {day}


def emergency(month: Month, user: User, day: date) -> set[date]:
    child = month.visible(user.organisation)
    month.look(user, child, month.when(day, _working_hours(user)), action=activity.EMERGENCY)
    return {day}


def refusals(month: Month, user: User, day: date) -> set[date]:
    rng = month.rng
    for _ in range(rng.randint(5, 15)):
        at = month.when(day, _working_hours(user))
        what = rng.random()
        if what < 0.5:
            month.emit(user, at, rng.choice(REFUSED_ACTIONS), outcome="refused")
        elif what < 0.8:
            month.emit(user, at, activity.OPEN, month.visible(user.organisation), outcome="refused")
        else:
            month.emit(user, at, activity.SEARCH, outcome="refused")
    return {day}


def guessing(month: Month, user: User, day: date) -> set[date]:
    """Someone with the user's password guesses codes: 3-5 in one sitting (the throttle
    holds a sixth), some days at two sittings."""
    rng = month.rng
    for _ in range(rng.choice((1, 1, 2))):
        at = month.when(day, (0, 24))
        month.emit(user, at, "access:sign-in:password")
        for n in range(rng.randint(3, 5)):
            month.emit(user, at + timedelta(seconds=15 * (n + 1)), CODE_STEP, outcome="refused")
    return {day}


def peek(month: Month, user: User, day: date) -> set[date]:
    """A week before `day`: register with a few children nobody gave them, read the
    contacts, end the involvement again; nothing more."""
    registered = day - timedelta(days=registrations.FOLLOW_UP_DAYS)
    for _ in range(month.rng.randint(3, 4)):
        child = month.visible(user.organisation)
        at = month.when(registered, _working_hours(user))
        month.look(user, child, at, then="child:involvement:register")
        month.emit(user, at + timedelta(minutes=20), "child:involvement:end", child)
    return {day}


def mass_register(month: Month, user: User, day: date) -> set[date]:
    """Register with many children in an afternoon: each opens a record in full."""
    start = month.rng.uniform(user.start, user.end - 2)
    for _ in range(month.rng.randint(8, 20)):
        child = month.visible(user.organisation)
        month.look(user, child, month.when(day, (start, start + 2)), then=REGISTER)
    return {day}


REGISTER = "child:involvement:register"

MISUSE: dict[Kind, Callable[[Month, User, date], set[date]]] = {
    Kind.SAME_SURNAME_OR_ADDRESS: relative,
    Kind.UNUSUAL_VOLUME: harvest,
    Kind.LOW_AND_SLOW: trickle,
    Kind.OUTSIDE_AREA: across_border,
    Kind.OUT_OF_HOURS: night,
    Kind.SHIELDED_PROBE: probe,
    Kind.NO_FOLLOW_UP: browse,
    Kind.EMERGENCY_ACCESS: emergency,
    Kind.REPEATED_REFUSALS: refusals,
    Kind.SECOND_FACTOR_GUESSING: guessing,
    Kind.REGISTRATIONS_NOT_FOLLOWED_UP: peek,
    Kind.MANY_REGISTRATIONS: mass_register,
}


def inject(month: Month, cases: int) -> None:
    """Give `cases` practitioners each kind of misuse, each on a weekday of the month."""
    staff = [u for u in month.users if u.duty == "practitioner"]
    if cases * len(MISUSE) > len(staff):
        raise SystemExit(
            f"{cases} cases of {len(MISUSE)} kinds need more than {len(staff)} practitioners"
        )
    chosen = iter(month.rng.sample(staff, cases * len(MISUSE)))
    weekdays = _weekdays(START, 22)[:-2]  # leaves a weekend after a night case's week
    for kind, misuse in MISUSE.items():
        for _ in range(cases):
            user = next(chosen)
            days = misuse(month, user, month.rng.choice(weekdays))
            month.cases.append(Case(kind, user.principal, user.organisation, frozenset(days)))


# Detection, as the nightly job runs it, and scoring.


def nightly(month: Month) -> list[Alert]:
    accesses = sorted(month.accesses, key=lambda a: a.at)
    times = [a.at for a in accesses]
    hours = dict(rules.DEFAULT_WORKING_HOURS)
    hours |= {u.principal: rules.ROUND_THE_CLOCK for u in month.users if u.duty == "emergency_duty"}
    alerts: list[Alert] = []
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        now = local(day + timedelta(days=1), 2.5)
        first = bisect.bisect_left(times, local(day - timedelta(days=WARM_UP - 1), 0))
        last = bisect.bisect_left(times, now)
        alerts += rules.detect(accesses[first:last], working_hours=hours, now=now)
    return alerts


def score(
    month: Month, alerts: Sequence[Alert], organisations: int
) -> tuple[dict[Kind, Score], list[int]]:
    scores = {kind: Score() for kind in Kind}
    cases = defaultdict(list)
    for case in month.cases:
        scores[case.kind].cases += 1
        cases[case.principal].append(case)
    found: set[Case] = set()
    for alert in alerts:
        kind = scores[alert.kind]
        kind.alerts += 1
        own = [c for c in cases[alert.principal] if alert.day in c.days]
        match = next((c for c in own if c.kind == alert.kind), None)
        if match is not None:
            kind.correct += 1
            found.add(match)
        elif alert.kind == Kind.EMERGENCY_ACCESS:
            kind.by_design += 1
        else:
            kind.wrongly_flagged.add(alert.principal)
            kind.other_misuse += 1 if own else 0
    for case in found:
        scores[case.kind].found += 1
    per_officer = Counter((a.organisation_id, a.day) for a in alerts)
    load = [
        per_officer[o, START + timedelta(days=d)] for o in range(organisations) for d in range(DAYS)
    ]
    return scores, load


def run(seed: int, organisations: int, practitioners: int, cases: int) -> Result:
    """Generate, inject, detect and score one month."""
    started = timer.monotonic()
    month = Month(seed, organisations, practitioners)
    month.generate()
    inject(month, cases)
    generated = timer.monotonic() - started
    alerts = nightly(month)
    detected = timer.monotonic() - started - generated
    scores, load = score(month, alerts, organisations)
    return Result(scores, load, len(month.accesses), generated, detected)


def report(result: Result, args: argparse.Namespace) -> dict[str, object]:
    """Print the figures with the machine and commit; return them for --json."""
    from measure import commit, machine

    at = {"machine": machine(), "commit": commit()}
    print(f"machine:  {at['machine']}")
    print(f"commit:   {at['commit']}")
    print(
        f"month:    {args.organisations} organisations x {args.practitioners} practitioners "
        f"(+{INDEX_TEAM} index team, +{EMERGENCY_DUTY} emergency duty), seed {args.seed}, "
        f"{result.events:,} events; generated in {result.generated:.1f} s, "
        f"detected in {result.detected:.1f} s"
    )
    print_table(result)
    print_targets(result)
    run = {k: vars(args)[k] for k in ("seed", "organisations", "practitioners", "cases")}
    seconds = {"generate": round(result.generated, 1), "detect": round(result.detected, 1)}
    return {**at, **run, "seconds": seconds, **result.as_dict()}


def print_table(result: Result) -> None:
    print(
        f"\n{'kind':<26}{'cases':>6}{'found':>6}{'recall':>8}{'alerts':>8}{'correct':>8}"
        f"{'precision':>10}{'other misuse':>14}{'users wrongly flagged':>23}"
    )
    for kind, s in result.scores.items():
        correct = s.correct + s.by_design
        print(
            f"{kind.value:<26}{s.cases:>6}{s.found:>6}{s.recall:>8.2f}{s.alerts:>8}{correct:>8}"
            f"{s.precision:>10.2f}{s.other_misuse:>14}{len(s.wrongly_flagged):>23}"
        )
    emergency = result.scores[Kind.EMERGENCY_ACCESS]
    print(
        f"  (emergency_access: {emergency.by_design} of {emergency.alerts} alerts were "
        f"legitimate accesses, alerted by design; {emergency.correct} were misuse)"
    )


def print_targets(result: Result) -> None:
    load = result.load
    mean = sum(load) / len(load)
    print(f"\nalerts per privacy officer per day: mean {mean:.2f}, max {max(load)}")
    missed = [k.value for k, s in result.scores.items() if not s.recall >= 0.9]
    verdict = "met" if not missed else f"MISSED for {', '.join(missed)}"
    print(f"targets:  recall >= 0.9 for every kind: {verdict}")
    print("          <= 20 alerts per officer per day: " + ("met" if max(load) <= 20 else "MISSED"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--organisations", type=int, default=20)
    parser.add_argument("--practitioners", type=int, default=50, help="per organisation")
    parser.add_argument("--cases", type=int, default=10, help="users per kind of misuse")
    parser.add_argument("--json", type=pathlib.Path, help="also write the figures here")
    args = parser.parse_args()
    result = run(args.seed, args.organisations, args.practitioners, args.cases)
    figures = report(result, args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, allow_nan=True) + "\n")


if __name__ == "__main__":
    main()
