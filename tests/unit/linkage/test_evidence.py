"""The levels each comparison gives a pair, worked by hand: addresses, towns, middle names,
swapped names and declared identifiers (the Python form; test_parity proves Splink's)."""

from __future__ import annotations

from typing import Any

import pytest

from contactpoint.lib import names
from contactpoint.linkage.comparisons import COMPARISONS
from contactpoint.linkage.records import LinkRecord, from_canonical

BASE: dict[str, Any] = {
    "given_name": "Amy",
    "middle_names": "Rose",
    "family_name": "Khan",
    "date_of_birth": "2016-04-02",
    "sex": "F",
    "postcode": "LS6 2AB",
    "address_line1": "Flat 2, 12 Hyde Park Rd",
    "address_line2": "",
    "town": "Leeds",
}


def record(**change: Any) -> LinkRecord:
    return from_canonical("r", {**BASE, **change})


def level(comparison: str, left: LinkRecord, right: LinkRecord) -> str:
    spec = next(c for c in COMPARISONS if c.name == comparison)
    return spec.levels[spec.level_of(left, right)].label


@pytest.mark.parametrize(
    ("text", "house", "street", "words"),
    [
        ("Flat 2, 12 Hyde Park Rd", "12", "hyde park road", ("hyde", "park", "road")),
        ("12 HYDE PARK ROAD", "12", "hyde park road", ("hyde", "park", "road")),
        ("12a St Mary's St", "12a", "saint marys street", ("marys", "saint", "street")),
        ("Rose Cottage", "", "rose cottage", ("cottage", "rose")),
        ("Apt 4", "", "", ()),
    ],
)
def test_an_address_is_standardised_with_its_house_number_apart(
    text: str, house: str, street: str, words: tuple[str, ...]
) -> None:
    assert names.standard_address(text) == (house, street, words)


def test_the_record_carries_address_town_and_middle_names() -> None:
    r = record(given_name="Amy Jane")
    assert (r.house_number, r.address_line, r.town) == ("12", "hyde park road", "leeds")
    assert r.address_tokens == ["hyde", "park", "road"]
    assert r.middle_names == ["jane", "rose"]
    assert r.identifiers is None and r.identifier_schemes is None


def test_given_and_family_names_swapped_is_its_own_level_in_both() -> None:
    swapped = record(given_name="Khan", family_name="Amy")
    assert level("given_name", record(), swapped) == "given and family names swapped"
    assert level("family_name", swapped, record()) == "given and family names swapped"


def test_swapped_names_with_a_slip_in_either_are_still_swapped() -> None:
    """A swap and a slip come together in one careless entry ('Meaney Jard' for 'Jared
    Meaney'); two slips in one name, or a swapped pair with another name, are not a swap."""
    for given, family in (("Khna", "Amy"), ("Khan", "Ami"), ("Kahn", "Aym")):
        swapped = record(given_name=given, family_name=family)
        assert level("given_name", record(), swapped) == "given and family names swapped"
        assert level("family_name", swapped, record()) == "given and family names swapped"
    for given, family in (("Kahhan", "Amy"), ("Khan", "Eve"), ("Khan", "")):
        other = record(given_name=given, family_name=family)
        assert level("given_name", record(), other) != "given and family names swapped"


def test_a_given_name_that_is_the_others_middle_name() -> None:
    rose = record(given_name="Rose", middle_names="")
    assert level("given_name", rose, record()) == "given name is the other's middle name"
    assert level("given_name", record(), rose) == "given name is the other's middle name"
    assert level("given_name", rose, record(middle_names="")) == "all other comparisons"


def test_address_counts_unless_the_postcodes_agree_and_town_only_when_they_differ() -> None:
    same = record(address_line1="3 Mill Lane", town="Wigan")
    assert level("address_line", record(), same) == "address_line missing or postcode equal"
    assert level("town", record(), same) == "town missing or postcodes not different"
    unknown = record(postcode="")
    assert level("town", record(), unknown) == "town missing or postcodes not different"
    assert level("address_line", unknown, record(address_line1="3 Mill Lane")) == (
        "all other comparisons"
    )
    moved = {"postcode": "M1 1AA"}
    assert level("address_line", record(), record(**moved)) == "address_line equal"
    typo = record(address_line1="12 Hdye Prak Road", **moved)
    assert level("address_line", record(), typo) == "address_line 2 edits apart"
    layout = record(address_line1="Hyde Park Court", address_line2="Road", **moved)
    assert level("address_line", record(), layout) == "address_tokens share 2"
    assert level("town", record(), record(town="Leds", **moved)) == "town one edit apart"
    assert level("town", record(), record(town="Wigan", **moved)) == "all other comparisons"


def test_a_house_number_counts_only_within_one_postcode() -> None:
    assert level("house_number", record(), record()) == "house_number equal"
    neighbour = record(address_line1="14 Hyde Park Road")
    assert level("house_number", record(), neighbour) == "all other comparisons"
    elsewhere = record(address_line1="14 Hyde Park Road", postcode="M1 1AA")
    assert (
        level("house_number", record(), elsewhere) == "house_number missing or postcode not equal"
    )


def test_declared_identifiers_compare_only_within_a_scheme() -> None:
    camden = record(identifiers={"camden-lapid": "P1", "nhs-local": "9"})
    assert camden.identifiers == ["camden-lapid:P1", "nhs-local:9"]
    assert camden.identifier_schemes == ["camden-lapid", "nhs-local"]
    assert level("identifiers", camden, record(identifiers={"camden-lapid": "P1"})) == (
        "identifiers equal"
    )
    other = record(identifiers={"camden-lapid": "P2"})
    assert level("identifiers", camden, other) == "all other comparisons"
    foreign = record(identifiers={"leeds-pid": "P1"})
    assert level("identifiers", camden, foreign) == "no identifier scheme shared"
    assert level("identifiers", camden, record()) == "no identifier scheme shared"
