"""When a user's access suspends itself. Pure rules over dates; no database.

A user may act only while every rule below holds. Nothing needs to run on a schedule: the
rules are checked on every request, and the index team sees the reasons on the user's page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

VETTING_VALID_YEARS = 3
INACTIVITY_DAYS = 60
RECERTIFY_MONTHS = 4


@dataclass(frozen=True)
class Facts:
    enabled: bool
    vetting_checked_on: dt.date | None
    training_completed_on: dt.date | None
    certified_on: dt.date | None  # enabled or last recertified by an authoriser
    last_active_on: dt.date | None
    accreditation_expires_on: dt.date | None  # None: the organisation is not accredited
    accredited: bool


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def suspensions(facts: Facts, today: dt.date) -> list[str]:
    """Return why the user may not act today; an empty list means they may."""
    reasons = []
    if not facts.enabled:
        reasons.append("not enabled by an authoriser")
    if facts.vetting_checked_on is None:
        reasons.append("no enhanced vetting check recorded")
    elif add_years(facts.vetting_checked_on, VETTING_VALID_YEARS) < today:
        reasons.append(f"vetting check over {VETTING_VALID_YEARS} years old")
    if facts.training_completed_on is None:
        reasons.append("no training recorded")
    if facts.certified_on is None or add_months(facts.certified_on, RECERTIFY_MONTHS) < today:
        reasons.append(f"recertification missed ({RECERTIFY_MONTHS}-monthly)")
    if facts.last_active_on is not None and (today - facts.last_active_on).days > INACTIVITY_DAYS:
        reasons.append(f"not used for over {INACTIVITY_DAYS} days")
    if not facts.accredited:
        reasons.append("organisation not accredited")
    elif facts.accreditation_expires_on is None or facts.accreditation_expires_on < today:
        reasons.append("organisation's accreditation lapsed")
    return reasons
