"""The birth-date-and-district index: one entry per child and district, 21 bits, keyed."""

from __future__ import annotations

import datetime as dt

from contactpoint.registry.blind_index import SPECS, Index, place_entries

BORN = dt.date(2015, 3, 4)


def test_a_place_entry_is_stable_and_within_its_bits() -> None:
    (entry,) = place_entries(BORN, "NW1")
    assert entry == next(iter(place_entries(BORN, "NW1")))
    index, value = entry
    assert index is Index.BIRTH_DATE_DISTRICT
    assert 0 <= value < 2 ** SPECS[Index.BIRTH_DATE_DISTRICT].bits


def test_another_district_or_date_is_another_bucket() -> None:
    here = place_entries(BORN, "NW1")
    assert place_entries(BORN, "NW5") != here
    assert place_entries(dt.date(2015, 4, 3), "NW1") != here
