"""Date-of-birth error variants: day and month swapped, one digit wrong."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from contactpoint.lib.dates import (
    DEFAULT_YEAR_SPAN,
    birth_date_variants,
    day_month_swapped,
    one_digit_variants,
)

WIDE = range(1800, 2201)


def test_it_swaps_day_and_month() -> None:
    assert day_month_swapped(dt.date(2015, 3, 4)) == dt.date(2015, 4, 3)
    assert day_month_swapped(dt.date(2015, 12, 1)) == dt.date(2015, 1, 12)


def test_there_is_no_swap_when_the_day_is_not_a_month_or_is_the_month() -> None:
    assert day_month_swapped(dt.date(2015, 3, 13)) is None
    assert day_month_swapped(dt.date(2015, 5, 5)) is None


@given(st.dates())
def test_swapping_is_an_involution_where_defined(d: dt.date) -> None:
    swapped = day_month_swapped(d)
    if swapped is None:
        assert d.day > 12 or d.day == d.month
    else:
        assert swapped != d
        assert day_month_swapped(swapped) == d


def test_one_digit_variants_of_a_date_counted_by_hand() -> None:
    # 2000-01-01, years 1970-2030: 2010, 2020, 2030 (third digit); 2001-2009 (fourth);
    # month 11 and 02-09; day 11, 21, 31 and 02-09. 3 + 9 + 1 + 8 + 3 + 8 = 32.
    variants = one_digit_variants(dt.date(2000, 1, 1))
    assert len(variants) == 32
    assert {dt.date(2030, 1, 1), dt.date(2000, 11, 1), dt.date(2000, 1, 31)} <= variants
    assert dt.date(2040, 1, 1) not in variants
    assert dt.date(2000, 1, 1) not in variants


def test_one_digit_variants_are_real_dates_only() -> None:
    variants = one_digit_variants(dt.date(2016, 2, 29))
    assert dt.date(2012, 2, 29) in variants
    assert dt.date(2016, 2, 19) in variants
    assert all(v.year != 2015 for v in variants)  # 2015-02-29 does not exist


def test_one_digit_variants_stay_within_the_years_given() -> None:
    variants = one_digit_variants(dt.date(2010, 6, 15), years=range(2010, 2011))
    assert {v.year for v in variants} == {2010}
    assert dt.date(2010, 6, 16) in variants


@given(st.dates())
def test_every_one_digit_variant_differs_in_exactly_one_character(d: dt.date) -> None:
    iso = d.isoformat()
    for variant in one_digit_variants(d):
        other = variant.isoformat()
        assert len(other) == len(iso)
        assert sum(a != b for a, b in zip(iso, other, strict=True)) == 1
        assert abs(variant.year - d.year) <= DEFAULT_YEAR_SPAN


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_being_one_digit_apart_is_symmetric(d: dt.date) -> None:
    for variant in one_digit_variants(d, years=WIDE):
        assert d in one_digit_variants(variant, years=WIDE)


def test_birth_date_variants_are_the_date_and_its_swap() -> None:
    d = dt.date(2015, 3, 4)
    assert birth_date_variants(d) == {d, dt.date(2015, 4, 3)}
    assert birth_date_variants(dt.date(2015, 3, 14)) == {dt.date(2015, 3, 14)}


@given(st.dates())
def test_birth_date_variants_with_one_digit_add_exactly_those(d: dt.date) -> None:
    assert birth_date_variants(d, one_digit=True) == birth_date_variants(d) | one_digit_variants(d)
    assert d in birth_date_variants(d)
