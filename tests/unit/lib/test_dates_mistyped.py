"""The dates a birth date may have been mistyped from (real-time error lookups)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from contactpoint.lib.dates import (
    MISTYPED_YEAR_SPAN,
    birth_date_variants,
    mistyped_variants,
    one_digit_variants,
    years_off_by_one,
)

BIRTHS = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31))


def test_a_year_off_by_one_includes_what_one_digit_does_not_reach() -> None:
    assert years_off_by_one(dt.date(2019, 12, 31)) == {dt.date(2018, 12, 31), dt.date(2020, 12, 31)}
    assert dt.date(2020, 12, 31) in mistyped_variants(dt.date(2019, 12, 31))
    assert dt.date(2020, 12, 31) not in one_digit_variants(dt.date(2019, 12, 31))


def test_29_february_has_no_year_off_by_one() -> None:
    assert years_off_by_one(dt.date(2016, 2, 29)) == set()


@given(BIRTHS)
def test_mistyped_variants_leave_out_the_date_and_its_swap(d: dt.date) -> None:
    variants = mistyped_variants(d)
    assert not variants & birth_date_variants(d)
    assert all(abs(v.year - d.year) <= MISTYPED_YEAR_SPAN for v in variants)
    assert variants <= one_digit_variants(d, range(1, 9999)) | years_off_by_one(d)
