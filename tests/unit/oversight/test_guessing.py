"""The second_factor_guessing rule: wrong second factors after a right password."""

from __future__ import annotations

from datetime import date, timedelta

from contactpoint.oversight.activity import REFUSED, Access
from contactpoint.oversight.guessing import CODE_STEP, GUESSES_MIN, PASSWORD_STEP
from contactpoint.oversight.rules import Kind
from tests.support.oversight import ALICE, BOB, TUESDAY, event, judge, of_kind, uk


def attempts(
    day: date, who: str, wrong_codes: int, wrong_passwords: int = 0, hour: int = 8
) -> list[Access]:
    """Wrong passwords, then the right one, then wrong codes, a minute apart from `hour`."""
    start = uk(day, hour)
    steps = [(PASSWORD_STEP, REFUSED)] * wrong_passwords + [(PASSWORD_STEP, "allowed")]
    steps += [(CODE_STEP, REFUSED)] * wrong_codes
    return [
        event(start + timedelta(minutes=n), action, who=who, outcome=outcome)
        for n, (action, outcome) in enumerate(steps)
    ]


def test_three_wrong_codes_after_the_right_password_are_an_alert() -> None:
    assert GUESSES_MIN == 3
    alerts = of_kind(judge(attempts(TUESDAY, ALICE, 3)), Kind.SECOND_FACTOR_GUESSING)
    assert [(a.principal, a.count) for a in alerts] == [(ALICE, 3)]
    assert alerts[0].reason.startswith("3 second factors refused after the right password")


def test_a_slip_or_two_is_not_an_alert() -> None:
    alerts = judge([*attempts(TUESDAY, ALICE, 2), *attempts(TUESDAY, BOB, 1)])
    assert of_kind(alerts, Kind.SECOND_FACTOR_GUESSING) == []


def test_wrong_passwords_alone_are_not_an_alert_nor_repeated_refusals() -> None:
    alerts = judge(attempts(TUESDAY, ALICE, 0, wrong_passwords=12))
    assert alerts == []


def test_codes_spread_over_a_day_are_counted_together_but_not_the_day_before() -> None:
    spread = [a for hour in (8, 12, 16) for a in attempts(TUESDAY, ALICE, 1, hour=hour)]
    yesterday = attempts(TUESDAY - timedelta(days=1), BOB, 5)
    alerts = of_kind(judge([*spread, *yesterday]), Kind.SECOND_FACTOR_GUESSING)
    assert [(a.principal, a.count) for a in alerts] == [(ALICE, 3)]
