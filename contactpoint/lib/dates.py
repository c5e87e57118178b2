"""Dates of birth as people mistype them: day and month swapped, one digit wrong.

Pure functions, no I/O. A variant is a candidate to look for, never a correction: the
caller decides what a match on a variant is worth. docs/standardisation.md explains why.
"""

from __future__ import annotations

import datetime as dt
import functools

# How far from the recorded year a one-digit variant may land and still be looked for.
DEFAULT_YEAR_SPAN = 30

_DIGITS = "0123456789"


def day_month_swapped(d: dt.date) -> dt.date | None:
    """Return the date with day and month exchanged (3 April for 4 March).

    None when the day is over 12 (no such month) or equals the month (the same date).
    """
    if d.day > 12 or d.day == d.month:
        return None
    # The old month becomes the day; it is 1-12, which every month has.
    return d.replace(month=d.day, day=d.month)


def one_digit_variants(d: dt.date, years: range | None = None) -> set[dt.date]:
    """Return every real date one digit away from d in its ISO form, within years.

    Args:
        d: the recorded date.
        years: the years a variant may fall in; by default DEFAULT_YEAR_SPAN either side
            of d's year, so a slip in the century ('1015-06-03') is not offered.

    Returns:
        The dates whose YYYY-MM-DD differs from d's in exactly one digit; d itself is not
        included. 2016-02-29 gives 2016-02-19 but not 2015-02-29, which does not exist.
    """
    allowed = years if years is not None else _span(d.year, DEFAULT_YEAR_SPAN)
    iso = d.isoformat()
    found: set[dt.date] = set()
    for position, char in enumerate(iso):
        if char == "-":
            continue
        for digit in _DIGITS.replace(char, ""):
            variant = _parse_iso(iso[:position] + digit + iso[position + 1 :])
            if variant is not None and variant.year in allowed:
                found.add(variant)
    return found


def birth_date_variants(d: dt.date, *, one_digit: bool = False) -> set[dt.date]:
    """Return d, d with day and month swapped (when that is another real date) and,
    when asked, the one-digit variants within DEFAULT_YEAR_SPAN years."""
    variants = {d}
    swapped = day_month_swapped(d)
    if swapped is not None:
        variants.add(swapped)
    if one_digit:
        variants |= one_digit_variants(d)
    return variants


# How far a mistyped year is looked for: a slip in the last digit of the year, or in the
# tens (2015 for 2005); a child's record a century out is not looked for.
MISTYPED_YEAR_SPAN = 10


def years_off_by_one(d: dt.date) -> set[dt.date]:
    """Return d a year earlier and a year later (29 February only where that year has it):
    2019 typed for 2020 is not one digit away."""
    found: set[dt.date] = set()
    for year in (d.year - 1, d.year + 1):
        if dt.MINYEAR <= year <= dt.MAXYEAR:
            try:
                found.add(d.replace(year=year))
            except ValueError:  # 29 February in a year without one
                continue
    return found


def mistyped_variants(d: dt.date) -> set[dt.date]:
    """Return the dates d may have been mistyped from, beyond birth_date_variants: one
    digit away within MISTYPED_YEAR_SPAN years, or the year off by one. Neither d nor its
    day-month swap is included, so the two sets can be looked up apart."""
    variants = one_digit_variants(d, _span(d.year, MISTYPED_YEAR_SPAN)) | years_off_by_one(d)
    return variants - birth_date_variants(d)


@functools.lru_cache(maxsize=1 << 16)
def birth_date_texts(text: str) -> frozenset[str]:
    """birth_date_variants (the date and its day-month swap) of an ISO date, as ISO texts;
    cached, since a population has a few thousand birth dates and millions of records."""
    return frozenset(b.isoformat() for b in birth_date_variants(dt.date.fromisoformat(text)))


def _span(year: int, span: int) -> range:
    return range(max(dt.MINYEAR, year - span), min(dt.MAXYEAR, year + span) + 1)


def _parse_iso(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None
