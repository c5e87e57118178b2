"""When access suspends itself: each rule at its boundary."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from contactpoint.access.standing import Facts, add_months, add_years, suspensions

TODAY = dt.date(2026, 11, 26)
GOOD = Facts(
    enabled=True,
    vetting_checked_on=TODAY - dt.timedelta(days=100),
    training_completed_on=TODAY - dt.timedelta(days=90),
    certified_on=TODAY - dt.timedelta(days=10),
    last_active_on=TODAY - dt.timedelta(days=1),
    accreditation_expires_on=TODAY + dt.timedelta(days=30),
    accredited=True,
)


def test_a_vetted_trained_certified_active_user_of_an_accredited_organisation_may_act() -> None:
    assert suspensions(GOOD, TODAY) == []


def test_vetting_lasts_three_years_to_the_day() -> None:
    assert suspensions(replace(GOOD, vetting_checked_on=dt.date(2023, 11, 26)), TODAY) == []
    late = suspensions(replace(GOOD, vetting_checked_on=dt.date(2023, 11, 25)), TODAY)
    assert late == ["vetting check over 3 years old"]


def test_sixty_days_unused_suspends() -> None:
    assert suspensions(replace(GOOD, last_active_on=TODAY - dt.timedelta(days=60)), TODAY) == []
    idle = suspensions(replace(GOOD, last_active_on=TODAY - dt.timedelta(days=61)), TODAY)
    assert idle == ["not used for over 60 days"]


def test_recertification_is_due_every_four_months() -> None:
    assert suspensions(replace(GOOD, certified_on=dt.date(2026, 7, 26)), TODAY) == []
    late = suspensions(replace(GOOD, certified_on=dt.date(2026, 7, 25)), TODAY)
    assert late == ["recertification missed (4-monthly)"]


def test_a_lapsed_or_missing_accreditation_suspends() -> None:
    lapsed = replace(GOOD, accreditation_expires_on=TODAY - dt.timedelta(days=1))
    assert suspensions(lapsed, TODAY) == ["organisation's accreditation lapsed"]
    assert suspensions(replace(GOOD, accredited=False), TODAY) == ["organisation not accredited"]


def test_a_new_user_lists_everything_missing() -> None:
    new = Facts(False, None, None, None, None, None, False)
    assert len(suspensions(new, TODAY)) == 5


def test_month_and_year_arithmetic_keeps_to_real_dates() -> None:
    assert add_months(dt.date(2026, 10, 31), 4) == dt.date(2027, 2, 28)
    assert add_years(dt.date(2024, 2, 29), 3) == dt.date(2027, 2, 28)
