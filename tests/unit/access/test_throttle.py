"""Quota counters taken together (`throttle.take_all`), as a search takes its three."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from contactpoint.access import throttle
from contactpoint.access.models import ThrottleAttempt

pytestmark = pytest.mark.django_db

HOURLY = throttle.Limit("test-hour", 2, dt.timedelta(hours=1))
DAILY = throttle.Limit("test-day", 3, dt.timedelta(days=1))


def counters(who: str) -> list[tuple[throttle.Limit, str]]:
    return [(HOURLY, who), (DAILY, who), (DAILY, "organisation:1")]


def test_it_counts_one_use_under_every_counter() -> None:
    assert throttle.take_all(counters("alice"))
    assert throttle.attempts(HOURLY, "alice") == 1
    assert throttle.attempts(DAILY, "alice") == 1
    assert throttle.attempts(DAILY, "organisation:1") == 1


def test_it_refuses_when_any_counter_is_full_and_counts_nothing() -> None:
    assert throttle.take_all(counters("alice"))
    assert throttle.take_all(counters("alice"))
    assert not throttle.take_all(counters("alice"))  # alice's hour is full
    assert throttle.attempts(DAILY, "alice") == 2
    assert throttle.attempts(DAILY, "organisation:1") == 2
    assert throttle.take_all(counters("bob"))  # the organisation's day has one place left
    assert not throttle.take_all(counters("carol"))  # and now none: carol's counters are empty
    assert throttle.attempts(HOURLY, "carol") == 0
    assert throttle.attempts(DAILY, "organisation:1") == 3


def test_it_counts_the_same_as_take_one_by_one() -> None:
    for _ in range(2):
        assert throttle.take(HOURLY, "alice")
    assert not throttle.take_all([(HOURLY, "alice")])
    assert not throttle.take(HOURLY, "alice")


def test_attempts_outside_a_window_are_not_counted_and_are_deleted() -> None:
    assert throttle.take_all(counters("alice"))
    assert throttle.take_all(counters("alice"))
    two_hours_ago = timezone.now() - dt.timedelta(hours=2)
    ThrottleAttempt.objects.update(at=two_hours_ago)
    assert throttle.take_all(counters("alice"))  # the hour has room again; the day has not filled
    assert throttle.attempts(HOURLY, "alice") == 1
    assert throttle.attempts(DAILY, "alice") == 3
    assert ThrottleAttempt.objects.count() == 1 + 3 + 3  # the hour's two old ones went
