"""The twin rule: same birth date and household, given names that are different names, no
shared identifier. It keeps twins apart and only twins: near-spellings of one name link."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from contactpoint.linkage import bulk, store
from contactpoint.linkage.realtime import (
    Candidate,
    Matcher,
    different_given_names,
    eligible,
    eligible_child,
    refused_as_twin,
    refused_as_twin_of,
    twin_like,
)
from contactpoint.linkage.records import LinkRecord, from_canonical, from_feed
from contactpoint.linkage.scorer import Scorer
from contactpoint.registry.feeds import RowParser
from tests.linkage.scenarios import Registry, benefit

TODAY = dt.date(2026, 11, 20)

FAMILY = {
    "family_name": "Hartley",
    "date_of_birth": "2015-03-04",
    "sex": "F",
    "postcode": "NW1 3AB",
}

NEAR_SPELLINGS = [
    ("Katherine", "Kathryn"),  # three edits, one nickname group
    ("Jon", "John"),
    ("Mohammed", "Muhammad"),
    ("Jessica", "Jesicca"),
    ("Jasmine", "Jazmyne"),  # two letters out, other sounds: the old rule's splits
    ("Christopher", "Kristopher"),
    ("Alexander", "Alex"),  # a prefix
    ("J", "James"),  # an initial
]
DIFFERENT_NAMES = [("Oliver", "Amelia"), ("Amy", "Ava"), ("Ella", "Ellie"), ("Jack", "Jake")]


def child(unique_id: str, **values: str) -> LinkRecord:
    return from_canonical(unique_id, {**FAMILY, **values})


def score(left: LinkRecord, right: LinkRecord) -> tuple[float, bool, bool]:
    scorer = Scorer(store.bootstrap_model())
    s = scorer.score(left, right)
    return s.weight, eligible(left, right, s), refused_as_twin(left, right, s)


@pytest.mark.parametrize(("a", "b"), NEAR_SPELLINGS)
def test_one_name_spelt_two_ways_is_not_twins(a: str, b: str) -> None:
    left, right = child("l", given_name=a), child("r", given_name=b)
    assert not different_given_names(left, right)
    assert not twin_like(left, right)
    _, ok, refused = score(left, right)
    assert ok and not refused


@pytest.mark.parametrize(("a", "b"), DIFFERENT_NAMES)
def test_twins_with_different_names_are_refused(a: str, b: str) -> None:
    left, right = child("l", given_name=a), child("r", given_name=b)
    assert twin_like(left, right)
    _, ok, _ = score(left, right)
    assert not ok


def test_a_twin_pair_strong_enough_to_link_counts_as_refused_as_twins() -> None:
    oliver, amelia = child("l", given_name="Oliver"), child("r", given_name="Amelia")
    weight, ok, refused = score(oliver, amelia)
    assert weight >= store.DEFAULT_UPPER  # the model alone would link them
    assert not ok and refused


def test_different_names_are_not_twins_in_another_household_or_on_another_day() -> None:
    oliver = child("l", given_name="Oliver")
    assert not twin_like(oliver, child("r", given_name="Amelia", postcode="SW1A 1AA"))
    assert not twin_like(oliver, child("r", given_name="Amelia", date_of_birth="2016-03-04"))
    # A household unknown on either side is not a different one.
    assert twin_like(oliver, child("r", given_name="Amelia", postcode=""))


def test_twins_with_a_mistyped_postcode_or_a_swapped_birth_date_are_still_twins() -> None:
    """A slip in the postcode stays in its district, and day and month swapped is one
    birthday: both left twins free to be linked before."""
    oliver = child("l", given_name="Oliver")
    assert twin_like(oliver, child("r", given_name="Amelia", postcode="NW1 3AD"))
    assert twin_like(oliver, child("r", given_name="Amelia", date_of_birth="2015-04-03"))
    assert not twin_like(oliver, child("r", given_name="Amelia", postcode="NW2 3AB"))
    # A birth date whose day and month cannot swap, beside none, is not the same birthday.
    born_late = child("l", given_name="Oliver", date_of_birth="2015-03-24")
    assert not twin_like(child("r", given_name="Amelia", date_of_birth=""), born_late)
    assert not twin_like(born_late, child("r", given_name="Amelia", date_of_birth=""))


def test_a_child_holding_a_twins_record_by_mistake_does_not_draw_the_other_twin() -> None:
    """Once one record of Amelia has joined Oliver's child, Amelia's next record scores best
    against it: the twin rule is asked of every record of the child, not the best alone."""
    oliver = child("o", given_name="Oliver")
    joined = child("a1", given_name="Amelia", postcode="NW1 3AD")
    amelia = child("a2", given_name="Amelia")
    s = Scorer(store.bootstrap_model()).score(amelia, joined)
    assert eligible(amelia, joined, s)
    held = Candidate(uuid.uuid4(), s, False, joined, (oliver, joined))
    assert not eligible_child(amelia, held) and refused_as_twin_of(amelia, held)
    alone = Candidate(uuid.uuid4(), s, False, joined, (joined,))
    assert eligible_child(amelia, alone)


def test_a_shared_identifier_is_never_twins() -> None:
    left = child("l", given_name="Oliver", nhs_number="4010232137")
    assert not twin_like(left, child("r", given_name="Amelia", nhs_number="4010232137"))
    assert twin_like(left, child("r", given_name="Amelia"))


def test_a_missing_given_name_is_not_a_different_one() -> None:
    assert not twin_like(child("l", given_name="Oliver"), child("r", given_name=""))


def test_bulk_links_near_spellings_keeps_twins_apart_and_counts_the_refusals() -> None:
    """Splink adjusts exact family names for how common they are in the records given, and
    in six records every name is common: a low upper threshold stands for a strong pair.
    Three households born on one day, each in its own district, so only the twins are
    twin-like (blocking pairs every birth date within a district)."""
    result = bulk.link(
        [
            child("k1", given_name="Katherine", family_name="Moss", postcode="M1 1AA"),
            child("k2", given_name="Kathryn", family_name="Moss", postcode="M1 1AA"),
            child("j1", given_name="Jessica", family_name="Oyelaran", postcode="LS6 2AB"),
            child("j2", given_name="Jesicca", family_name="Oyelaran", postcode="LS6 2AB"),
            child("o1", given_name="Oliver"),
            child("a1", given_name="Amelia"),
        ],
        store.bootstrap_model(),
        upper=-5.0,
        lower=-20.0,
    )
    c = result.clusters
    assert c["k1"] == c["k2"] and c["j1"] == c["j2"]
    assert c["o1"] != c["a1"]
    assert result.refused_as_twins == 1


def test_bulk_keeps_twins_apart_through_a_slipped_postcode() -> None:
    result = bulk.link(
        [child("o1", given_name="Oliver"), child("a1", given_name="Amelia", postcode="NW1 3AD")],
        store.bootstrap_model(),
        upper=-20.0,
        lower=-30.0,
    )
    assert result.clusters["o1"] != result.clusters["a1"]
    assert result.refused_as_twins == 1


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_real_time_refuses_twins_links_a_near_spelling_and_counts_the_refusal(
    feeds: Path,
) -> None:
    registry = Registry(feeds)
    registry.load("child_benefit", [benefit("CB1", given_name="Oliver")])
    # Jasmine lives elsewhere: born on Oliver's day in his postcode, she would be his
    # neighbour found by the birth date in the district, and wait for a person.
    jasmine = {"given_name": "Jasmine", "family_name": "Moss", "postcode": "M1 1AA"}
    registry.load("child_benefit", [benefit("CB2", **jasmine)])
    matcher = Matcher()
    amelia, kathryn = (
        RowParser(TODAY).parse(benefit("CB3")),
        RowParser(TODAY).parse(benefit("CB4", **(jasmine | {"given_name": "Jazmyne"}))),
    )
    assert amelia is not None and kathryn is not None
    twin, near = matcher.match(
        [(uuid.uuid4(), r, from_feed(str(n), r)) for n, r in enumerate((amelia, kathryn))]
    )
    assert twin.action == "review" and twin.refused_as_twins == 1
    assert twin.candidates[0].child_id == registry.child("child_benefit", "CB1").pk
    assert (near.action, near.child_id) == ("link", registry.child("child_benefit", "CB2").pk)
    assert matcher.refused_as_twins == 1
