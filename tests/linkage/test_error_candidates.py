"""Candidates that survive errors: one error in any single field of a record still reaches
the right child, in real time (blind-index lookups) and in bulk (Splink's blocking)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from contactpoint.linkage import bulk
from contactpoint.linkage.records import from_canonical
from contactpoint.registry.candidates import candidate_children, record_entries, variant_entries
from contactpoint.registry.feeds import FeedRecord, RowParser
from tests.linkage.scenarios import Registry, benefit, nhs
from tests.support.feeds import AMELIA

TODAY = dt.date(2026, 11, 20)

# One error each, in a child benefit record (no NHS number) of Amelia Hartley, born
# 2015-03-04, of NW1 3AB. No postcode either, unless the error is in the date of birth's
# absence, so the postcode district cannot be what finds her.
ERRORS: dict[str, dict[str, Any]] = {
    "typo in the given name": {"given_name": "Amilea"},
    "typo in the family name": {"family_name": "Hortley"},
    "a digit of the day": {"date_of_birth": "2015-03-07"},
    "a digit of the month": {"date_of_birth": "2015-08-04"},
    "a digit of the year": {"date_of_birth": "2013-03-04"},
    "year off by one": {"date_of_birth": "2016-03-04"},
    "day and month swapped": {"date_of_birth": "2015-04-03"},
    "names swapped": {"given_name": "Hartley", "family_name": "Amelia"},
    "no date of birth": {"date_of_birth": None, "postcode": AMELIA["postcode"]},
    "no postcode": {},
}
# Errors the exact keys alone miss: only the error variants reach her.
VARIANTS_NEEDED = {
    "a digit of the day",
    "a digit of the month",
    "a digit of the year",
    "year off by one",
    "names swapped",
}


# Two slips in one record, as careless entry makes them (FEBRL4 is full of them), each
# with the postcode right: only the error variants reach her.
SLIPS: dict[str, dict[str, Any]] = {
    "both names misspelt beyond their sounds": {"given_name": "Amlea", "family_name": "Hatrley"},
    "both names misspelt, no postcode": {
        "given_name": "Amlea",
        "family_name": "Hartlney",
        "postcode": None,
    },
    "no date of birth, names swapped": {
        "date_of_birth": None,
        "given_name": "Hartley",
        "family_name": "Amelia",
    },
    "no date of birth, a letter added to the family name": {
        "date_of_birth": None,
        "family_name": "Hartlney",
    },
    "no date of birth, two letters of the family name swapped": {
        "date_of_birth": None,
        "family_name": "Harltey",
    },
}


def wrong(error: str) -> FeedRecord:
    record = RowParser(TODAY).parse(benefit("CB1", postcode=""))
    assert record is not None
    return FeedRecord.from_canonical({**record.canonical(), **ERRORS[error]})


def slipped(slips: str) -> FeedRecord:
    record = RowParser(TODAY).parse(benefit("CB1", postcode=AMELIA["postcode"]))
    assert record is not None
    return FeedRecord.from_canonical({**record.canonical(), **SLIPS[slips]})


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_one_error_in_any_field_still_finds_the_child_in_real_time(feeds: Path) -> None:
    registry = Registry(feeds)
    registry.load("nhs_demographics", [nhs("N1")])
    amelia = registry.child("nhs_demographics", "N1").pk
    for error in ERRORS:
        record = wrong(error)
        exact, more = record_entries(record), variant_entries(record)
        found, by_exact = candidate_children([exact | more, exact])
        assert amelia in found, error
        assert (amelia not in by_exact) == (error in VARIANTS_NEEDED), error


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_two_slips_with_the_postcode_right_find_the_child_by_the_variants(feeds: Path) -> None:
    registry = Registry(feeds)
    registry.load("nhs_demographics", [nhs("N1")])
    amelia = registry.child("nhs_demographics", "N1").pk
    for slips in SLIPS:
        record = slipped(slips)
        exact, more = record_entries(record), variant_entries(record)
        found, by_exact = candidate_children([exact | more, exact])
        assert amelia in found and amelia not in by_exact, slips


def test_both_names_misspelt_still_reach_scoring_in_bulk() -> None:
    right = from_canonical("right", {**AMELIA, "nhs_number": ""})
    doc = slipped("both names misspelt beyond their sounds").canonical()
    found = bulk.blocking_recall(
        [right, from_canonical("wrong", doc)], {"right": "amelia", "wrong": "amelia"}
    )
    assert (found.true_pairs, found.reached) == (1, 1)


@pytest.mark.parametrize("error", list(ERRORS))
def test_one_error_in_any_field_still_reaches_scoring_in_bulk(error: str) -> None:
    right = from_canonical("right", {**AMELIA, "nhs_number": ""})
    doc = {**wrong("no postcode").canonical(), **ERRORS[error]}
    found = bulk.blocking_recall(
        [right, from_canonical("wrong", doc)], {"right": "amelia", "wrong": "amelia"}
    )
    assert (found.true_pairs, found.reached) == (1, 1)


def test_a_wrong_sex_and_a_given_name_typo_still_reach_scoring_in_bulk() -> None:
    """The birth date and family name rule pairs only records whose sexes agree (or one is
    missing); a record with the sex wrong and the given name misspelt meets its child by
    the birth date in the postcode district."""
    right = from_canonical("right", {**AMELIA, "nhs_number": ""})
    doc = {**AMELIA, "nhs_number": "", "sex": "M", "given_name": "Amilea"}
    found = bulk.blocking_recall(
        [right, from_canonical("wrong", doc)], {"right": "amelia", "wrong": "amelia"}
    )
    assert (found.true_pairs, found.reached) == (1, 1)


def test_a_boy_and_a_girl_born_on_one_day_with_one_family_name_are_not_paired() -> None:
    """Strangers who share a birth date and a family name are most of a national
    population's blocked pairs; a boy and a girl in different districts are never scored."""
    girl = from_canonical("girl", {**AMELIA, "nhs_number": ""})
    boy = from_canonical(
        "boy",
        {**AMELIA, "nhs_number": "", "sex": "M", "given_name": "Oliver", "postcode": "LS6 2AB"},
    )
    found = bulk.blocking_recall([girl, boy], {"girl": "amelia", "boy": "oliver"})
    assert found.true_pairs == 0
    assert sum(pairs for _, pairs, _ in found.by_rule) == 0
