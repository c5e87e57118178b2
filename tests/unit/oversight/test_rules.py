"""Misuse detection rules on hand-made accesses: each rule fires when it should and not
when it should not; one alert per kind, user and day; baselines; working hours across the
UK clock change; and one small end-to-end run of the evaluation's month."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from uuid import UUID, uuid4

import pytest

from contactpoint.oversight.activity import (
    EMERGENCY,
    OPEN,
    REFUSED,
    SEARCH,
    VIEW,
    Access,
)
from contactpoint.oversight.rules import (
    ROUND_THE_CLOCK,
    Baseline,
    Kind,
    detect,
    in_working_hours,
)
from tests.support.oversight import (
    ALICE,
    BOB,
    ORGANISATION,
    REGISTER,
    TUESDAY,
    event,
    judge,
    kids,
    look,
    looks,
    of_kind,
    search,
    uk,
    weekdays_before,
)

# same_surname_or_address


def test_a_new_child_sharing_her_surname_whose_record_she_opens_is_an_alert() -> None:
    niece = uuid4()
    [alert] = judge(look(uk(TUESDAY, 10), niece, same_surname=True))
    assert alert.kind == Kind.SAME_SURNAME_OR_ADDRESS
    assert alert.principal == ALICE and alert.organisation_id == ORGANISATION
    assert alert.child_ids == (niece,) and alert.day == TUESDAY


def test_a_namesake_she_already_knew_is_not_an_alert() -> None:
    pupil = uuid4()
    earlier = look(uk(TUESDAY - timedelta(days=21), 10), pupil, same_surname=True)
    alerts = judge([*earlier, *look(uk(TUESDAY, 10), pupil, same_surname=True)])
    assert of_kind(alerts, Kind.SAME_SURNAME_OR_ADDRESS) == []


def test_a_namesake_shown_by_a_search_she_followed_up_on_another_child_is_not() -> None:
    wanted, namesake = uuid4(), uuid4()
    at = uk(TUESDAY, 10)
    accesses = [
        event(at, SEARCH, wanted, request="r1"),
        event(at, SEARCH, namesake, request="r1", same_surname=True),
        event(at + timedelta(minutes=3), VIEW, wanted),
    ]
    assert judge(accesses) == []


def test_a_namesake_shown_by_a_search_she_did_not_follow_up_is_an_alert() -> None:
    namesake = uuid4()
    [alert] = judge(search(uk(TUESDAY, 10), namesake, uuid4(), same_surname=True))
    assert alert.kind == Kind.SAME_SURNAME_OR_ADDRESS


def test_a_child_at_her_home_postcode_is_an_alert_even_in_search_results() -> None:
    neighbour, wanted = uuid4(), uuid4()
    at = uk(TUESDAY, 10)
    accesses = [
        event(at, SEARCH, wanted, request="r1"),
        event(at, SEARCH, neighbour, request="r1", same_address=True),
        event(at + timedelta(minutes=3), VIEW, wanted),
    ]
    [alert] = judge(accesses)
    assert alert.kind == Kind.SAME_SURNAME_OR_ADDRESS and alert.child_ids == (neighbour,)


# unusual_volume


def steady(days: list[date], per_day: int, *, who: str = ALICE) -> list[Access]:
    """`per_day` children new to her each day, nobody's case."""
    return [a for day in days for a in looks(day, kids(per_day), who=who)]


def caseload(days: list[date], children: list[UUID], *, who: str = ALICE) -> list[Access]:
    """Her own caseload, every working day (involved: her organisation works with them)."""
    return [a for day in days for a in looks(day, children, who=who, involved=True)]


def test_a_day_far_above_her_own_baseline_is_unusual_volume() -> None:
    history = caseload(weekdays_before(TUESDAY, 10), kids(5))
    [alert] = judge([*history, *looks(TUESDAY, kids(30))])
    assert alert.kind == Kind.UNUSUAL_VOLUME and alert.count == 30
    assert "usually 5 a day" in alert.reason


def test_the_volume_threshold_is_her_median_plus_six_floored_spreads() -> None:
    # Five a day every day: median 5, spread 0 floored to 2: 5 + 6 * 2 = 17 (> 2.5 * 5).
    history = caseload(weekdays_before(TUESDAY, 10), kids(5))
    assert judge([*history, *looks(TUESDAY, kids(16))]) == []
    [alert] = judge([*history, *looks(TUESDAY, kids(17))])
    assert alert.kind == Kind.UNUSUAL_VOLUME


def test_a_new_user_is_held_to_the_fixed_ceiling() -> None:
    assert judge(looks(TUESDAY, kids(39))) == []
    [alert] = judge(looks(TUESDAY, kids(40)))
    assert alert.kind == Kind.UNUSUAL_VOLUME and "no baseline yet" in alert.reason


def test_a_given_baseline_replaces_the_one_from_the_accesses() -> None:
    busy = Baseline.of(children=[30] * 10, unfollowed=[0] * 10)  # threshold 2.5 * 30 = 75
    assert judge(looks(TUESDAY, kids(40)), history={ALICE: busy}) == []


def test_a_baseline_is_the_median_and_the_scaled_median_absolute_deviation() -> None:
    baseline = Baseline.of(children=[1, 2, 3, 4, 100], unfollowed=[0, 0, 0, 2, 9])
    assert baseline.days == 5
    assert baseline.children_median == 3 and baseline.children_spread == pytest.approx(1.4826)
    assert baseline.unfollowed_median == 0 and baseline.unfollowed_spread == 0


# low_and_slow


SIX_WEEKS = weekdays_before(TUESDAY, 29)  # every weekday of the window before Tuesday
LAST_FORTNIGHT = [d for d in SIX_WEEKS if d > TUESDAY - timedelta(days=14)]


def test_a_few_new_children_a_day_for_a_fortnight_are_low_and_slow() -> None:
    work = caseload([*SIX_WEEKS, TUESDAY], kids(4))
    snooping = steady([*LAST_FORTNIGHT, TUESDAY], 3)
    [alert] = of_kind(judge([*work, *snooping]), Kind.LOW_AND_SLOW)
    assert alert.count == 30 and len(alert.child_ids) == 3  # 10 days x 3; today's 3
    assert "their own fortnight before" in alert.reason


def test_the_same_habit_kept_for_weeks_is_not_low_and_slow() -> None:
    work = caseload([*SIX_WEEKS, TUESDAY], kids(4))
    checks = steady([*SIX_WEEKS, TUESDAY], 3)
    assert of_kind(judge([*work, *checks]), Kind.LOW_AND_SLOW) == []


def test_children_her_organisation_works_with_are_not_low_and_slow() -> None:
    work = caseload([*SIX_WEEKS, TUESDAY], kids(4))
    covering = [a for day in [*LAST_FORTNIGHT, TUESDAY] for a in looks(day, kids(3), involved=True)]
    assert of_kind(judge([*work, *covering]), Kind.LOW_AND_SLOW) == []


def test_children_she_registers_are_not_low_and_slow() -> None:
    work = caseload([*SIX_WEEKS, TUESDAY], kids(4))
    referrals = [
        access
        for day in [*LAST_FORTNIGHT, TUESDAY]
        for child in kids(3)
        for access in [*look(uk(day, 14), child), event(uk(day, 14, 30), REGISTER, child)]
    ]
    assert of_kind(judge([*work, *referrals]), Kind.LOW_AND_SLOW) == []


def test_a_one_day_burst_is_unusual_volume_not_low_and_slow() -> None:
    work = caseload([*SIX_WEEKS, TUESDAY], kids(4))
    alerts = judge([*work, *looks(TUESDAY, kids(30))])
    assert [a.kind for a in alerts] == [Kind.UNUSUAL_VOLUME]


def test_a_pattern_that_has_stopped_is_not_raised_again() -> None:
    work = caseload([*SIX_WEEKS, TUESDAY], kids(4))
    snooping = steady(LAST_FORTNIGHT, 3)  # nothing new today
    assert of_kind(judge([*work, *snooping]), Kind.LOW_AND_SLOW) == []


def test_a_newcomer_is_compared_with_her_peers() -> None:
    colleagues = [f"user:colleague-{n}" for n in range(8)]
    admissions = [a for who in colleagues for a in steady([*SIX_WEEKS, TUESDAY], 3, who=who)]
    snooping = steady([*LAST_FORTNIGHT, TUESDAY], 3)
    # Her peers all check three new children a day: so does she; nothing unusual.
    assert of_kind(judge([*admissions, *snooping]), Kind.LOW_AND_SLOW) == []
    quiet = [a for who in colleagues for a in caseload([*SIX_WEEKS, TUESDAY], kids(3), who=who)]
    [alert] = of_kind(judge([*quiet, *snooping]), Kind.LOW_AND_SLOW)
    assert alert.principal == ALICE and "their peers'" in alert.reason


# outside_area


def test_two_new_children_from_another_area_are_an_alert() -> None:
    assert judge(looks(TUESDAY, kids(1), outside_area=True)) == []
    [alert] = judge(looks(TUESDAY, kids(2), outside_area=True))
    assert alert.kind == Kind.OUTSIDE_AREA and alert.count == 2


def test_children_from_another_area_her_organisation_works_with_are_not() -> None:
    assert judge(looks(TUESDAY, kids(3), outside_area=True, involved=True)) == []


def test_children_from_another_area_she_registers_or_knew_are_not() -> None:
    referred, known = uuid4(), uuid4()
    accesses = [
        *looks(TUESDAY, [referred, known], outside_area=True),
        event(uk(TUESDAY, 11), REGISTER, referred, outside_area=True),
        *look(uk(TUESDAY - timedelta(days=7), 10), known, outside_area=True),
    ]
    assert judge(accesses) == []


# out_of_hours


def test_two_children_late_on_a_weekday_evening_are_out_of_hours() -> None:
    late = uk(TUESDAY, 21)
    assert judge(look(late, uuid4())) == []
    [alert] = judge([*look(late, uuid4()), *look(late + timedelta(minutes=20), uuid4())])
    assert alert.kind == Kind.OUT_OF_HOURS and alert.count == 2
    assert "07:00-19:00" in alert.reason


def test_a_weekend_day_is_out_of_hours_and_a_round_the_clock_rota_never_is() -> None:
    saturday = date(2025, 3, 15)
    accesses = [*look(uk(saturday, 10), uuid4()), *look(uk(saturday, 11), uuid4())]
    [alert] = judge(accesses, day=saturday)
    assert alert.kind == Kind.OUT_OF_HOURS
    rota = {"practitioner": (7, 19), ALICE: ROUND_THE_CLOCK}
    assert judge(accesses, day=saturday, working_hours=rota) == []
    assert judge(accesses, day=saturday, working_hours={"index_team": (8, 18)}) == []


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # 06:15 UTC on a Monday: 06:15 GMT is before 07:00 less 30 minutes' grace...
        (datetime(2025, 3, 24, 6, 15, tzinfo=UTC), False),
        # ...but 07:15 BST the week after the clock change.
        (datetime(2025, 3, 31, 6, 15, tzinfo=UTC), True),
        # 18:45 UTC: 18:45 GMT is within the day; 19:45 BST is past 19:00 and the grace.
        (datetime(2025, 3, 24, 18, 45, tzinfo=UTC), True),
        (datetime(2025, 3, 31, 18, 45, tzinfo=UTC), False),
        (datetime(2025, 3, 31, 18, 29, tzinfo=UTC), True),  # 19:29 BST, within the grace
    ],
)
def test_working_hours_follow_the_uk_clock(at: datetime, expected: bool) -> None:
    assert in_working_hours(at, (7, 19)) is expected


def test_a_day_is_a_uk_day_across_the_clock_change() -> None:
    monday = date(2025, 3, 31)
    child = uuid4()
    # 23:30 UTC on Sunday 30 March is 00:30 BST on Monday.
    accesses = [event(datetime(2025, 3, 30, 23, 30, tzinfo=UTC), EMERGENCY, child)]
    assert judge(accesses, day=date(2025, 3, 30)) == []
    [alert] = judge(accesses, day=monday)
    assert alert.kind == Kind.EMERGENCY_ACCESS and alert.day == monday


# shielded_probe


def test_a_refused_attempt_to_open_a_shielded_child_is_a_probe() -> None:
    hidden = uuid4()
    [alert] = judge([event(uk(TUESDAY, 10), OPEN, hidden, outcome=REFUSED, shielded=True)])
    assert alert.kind == Kind.SHIELDED_PROBE and alert.child_ids == (hidden,)


def test_a_refused_open_of_another_child_or_a_shielded_record_shown_is_not() -> None:
    accesses = [
        event(uk(TUESDAY, 10), OPEN, uuid4(), outcome=REFUSED),
        event(uk(TUESDAY, 11), VIEW, uuid4(), shielded=True),  # the index team may
    ]
    assert judge(accesses) == []


# no_follow_up


def searches(day: date, count: int, *, hour: int = 9) -> list[Access]:
    start = uk(day, hour)
    return [a for n in range(count) for a in search(start + timedelta(minutes=n), uuid4())]


def test_six_searches_with_no_follow_up_are_an_alert() -> None:
    assert judge(searches(TUESDAY, 5)) == []
    [alert] = judge(searches(TUESDAY, 6))
    assert alert.kind == Kind.NO_FOLLOW_UP and alert.count == 6


def test_searches_followed_up_within_two_hours_are_not() -> None:
    accesses = [
        access
        for n in range(8)
        for child in [uuid4()]
        for access in [
            *search(uk(TUESDAY, 9, n), child),
            event(uk(TUESDAY, 10, 50 + n), VIEW, child),
        ]
    ]
    assert judge(accesses) == []


def test_a_look_three_hours_later_does_not_follow_a_search_up() -> None:
    children = kids(6)
    later = [event(uk(TUESDAY, 13, n), VIEW, child) for n, child in enumerate(children)]
    alerts = judge([*[a for c in children for a in search(uk(TUESDAY, 9), c)], *later])
    assert [a.kind for a in alerts] == [Kind.NO_FOLLOW_UP]


def test_a_late_search_followed_up_after_midnight_is_followed_up() -> None:
    children = kids(6)
    at = uk(TUESDAY, 23, 30)
    accesses = [a for c in children for a in search(at, c)]
    accesses += [event(at + timedelta(hours=1), VIEW, c) for c in children]
    assert of_kind(judge(accesses), Kind.NO_FOLLOW_UP) == []


def test_a_user_who_usually_leaves_searches_is_held_to_her_own_habit() -> None:
    # Median 8 unfollowed a day, spread 0 floored to 1: threshold 8 + 5 = 13.
    history = [a for day in weekdays_before(TUESDAY, 10) for a in searches(day, 8)]
    assert judge([*history, *searches(TUESDAY, 12)]) == []
    [alert] = judge([*history, *searches(TUESDAY, 13)])
    assert alert.kind == Kind.NO_FOLLOW_UP


# emergency_access, repeated_refusals, one alert per kind and day


def test_every_emergency_access_is_an_alert_one_a_day_with_all_its_children() -> None:
    first, second, yesterdays = uuid4(), uuid4(), uuid4()
    accesses = [
        event(uk(TUESDAY - timedelta(days=1), 15), EMERGENCY, yesterdays),
        event(uk(TUESDAY, 10), EMERGENCY, first),
        event(uk(TUESDAY, 15), EMERGENCY, second),
    ]
    [alert] = judge(accesses)
    assert alert.kind == Kind.EMERGENCY_ACCESS and alert.count == 2
    assert alert.child_ids == tuple(sorted([first, second]))
    [monday] = judge(accesses, day=TUESDAY - timedelta(days=1))
    assert monday.child_ids == (yesterdays,)


def test_four_refused_requests_are_an_alert_but_wrong_passwords_are_not() -> None:
    def refused(count: int, action: str) -> list[Access]:
        return [event(uk(TUESDAY, 10, n), action, outcome=REFUSED) for n in range(count)]

    assert judge(refused(3, "access:area:users:manage")) == []
    assert judge(refused(9, "access:sign-in:password")) == []
    [alert] = judge(refused(4, "access:area:users:manage"))
    assert alert.kind == Kind.REPEATED_REFUSALS and alert.count == 4


def test_each_user_gets_at_most_one_alert_of_a_kind_a_day() -> None:
    accesses = [
        *[event(uk(TUESDAY, 9 + n), EMERGENCY, uuid4()) for n in range(5)],
        *[event(uk(TUESDAY, 9 + n), EMERGENCY, uuid4(), who=BOB) for n in range(2)],
    ]
    alerts = judge(accesses)
    assert [(a.principal, a.kind, a.count) for a in alerts] == [
        (ALICE, Kind.EMERGENCY_ACCESS, 5),
        (BOB, Kind.EMERGENCY_ACCESS, 2),
    ]


def test_accesses_at_or_after_now_are_not_judged() -> None:
    now = uk(TUESDAY + timedelta(days=1), 2, 30)
    accesses = [event(now, EMERGENCY, uuid4()), event(now + timedelta(hours=1), EMERGENCY)]
    assert detect(accesses, now=now) == []


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        detect([], now=datetime(2025, 3, 12, 2, 30))


# The evaluation, end to end on a small month.


def evaluation() -> ModuleType:
    path = Path(__file__).resolve().parents[3] / "benchmarks" / "eval_misuse.py"
    spec = importlib.util.spec_from_file_location("eval_misuse", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_evaluation_finds_every_kind_of_misuse_in_a_small_month() -> None:
    result = evaluation().run(seed=1, organisations=3, practitioners=10, cases=2)
    recall = {kind: score.recall for kind, score in result.scores.items()}
    assert set(recall) == set(Kind)
    assert all(r >= 0.9 for r in recall.values()), recall
    assert max(result.load) <= 20
