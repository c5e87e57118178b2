"""The minimum criteria of a search: each route in, each refusal and what it asks to add."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactpoint.access.purposes import PURPOSES
from contactpoint.lib.identifiers import upn_check_letter
from contactpoint.search.criteria import Asked, Criteria, DayMonthYear, Field, Refused, check

TODAY = dt.date(2026, 11, 26)
DOB = dt.date(2016, 5, 5)


def asked(**values: str) -> Asked:
    return Asked(purpose="starting_work", date_of_birth=DOB, **values)


def typed(day: str, month: str, year: str) -> Asked:
    """A search for Ola Nowak with the date of birth typed in three boxes."""
    born = DayMonthYear(day, month, year)
    return Asked("starting_work", born, family_name="Nowak", given_name="Ola")


def refusal(search: Asked) -> dict[Field, str]:
    with pytest.raises(Refused) as caught:
        check(search, TODAY)
    return caught.value.errors


def test_family_name_date_of_birth_and_given_name_is_a_search() -> None:
    c = check(asked(family_name="Nowak", given_name="Ola"), TODAY)
    assert (c.family_name, c.given_name, c.date_of_birth) == ("Nowak", "Ola", DOB)
    assert c.purpose == "starting_work" and not c.by_identifier


def test_a_date_typed_in_three_boxes_is_the_same_search_as_the_date() -> None:
    assert check(typed(" 5", "05 ", "2016"), TODAY) == check(
        asked(family_name="Nowak", given_name="Ola"), TODAY
    )


def test_spaces_are_collapsed_and_trimmed() -> None:
    c = check(asked(family_name="  Smith   Jones ", given_name=" Ola\t"), TODAY)
    assert (c.family_name, c.given_name) == ("Smith Jones", "Ola")


def test_a_postcode_district_or_a_full_postcode_stands_for_the_given_name() -> None:
    district = check(asked(family_name="Nowak", postcode="nw1"), TODAY)
    assert (district.district, district.postcode) == ("NW1", None)
    full = check(asked(family_name="Nowak", postcode="nw13ab"), TODAY)
    assert str(full.postcode) == "NW1 3AB" and full.district == "NW1"


def test_an_nhs_number_or_upn_with_the_date_of_birth_is_a_search() -> None:
    assert check(asked(nhs_number="401 023 2137"), TODAY).nhs_number == "4010232137"
    upn = upn_check_letter("202100125001") + "202100125001"
    c = check(asked(upn=upn.lower()), TODAY)
    assert c.upn == upn and c.by_identifier


def test_the_criteria_cannot_be_changed() -> None:
    c = check(asked(family_name="Nowak", given_name="Ola"), TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.family_name = "Other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        asked().family_name = "Other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("search", "field", "says"),
    [
        (asked(given_name="Ola"), "search", "Add the child's family name, or an NHS number or UPN"),
        (asked(family_name="Nowak"), "search", "Add the child's given name or a postcode"),
        (typed("", "5", "2016"), "date_of_birth", "Enter the child's date of birth"),
        (typed("5", "5", ""), "date_of_birth", "with a day, month and year"),
        (asked(nhs_number="4010232138"), "nhs_number", "Enter a valid NHS number"),
        (asked(upn="not a upn"), "upn", "Enter a valid UPN"),
        (asked(family_name="Now*", given_name="Ola"), "family_name", "cannot contain wildcards"),
        (asked(family_name="N%", given_name="Ola"), "family_name", "cannot contain wildcards"),
        (asked(family_name="N", given_name="Ola"), "family_name", "at least 2 letters"),
        (asked(family_name="N0wak", given_name="Ola"), "family_name", "whole name"),
        (asked(family_name="Nowak", given_name="O"), "given_name", "at least 2 letters"),
        (asked(family_name="Nowak", given_name="Ol?"), "given_name", "cannot contain wildcards"),
        (asked(family_name="Nowak", postcode="ZZ"), "postcode", "Enter a full postcode"),
        (
            dataclasses.replace(asked(family_name="Nowak", given_name="Ola"), purpose="curiosity"),
            "purpose",
            "Select why",
        ),
        (typed("31", "2", "2016"), "date_of_birth", "real date"),
        (typed("5", "May", "2016"), "date_of_birth", "real date"),
        (typed("5", "5", "2027"), "date_of_birth", "in the past"),
        (typed("5", "5", "1990"), "date_of_birth", "up to 25"),
        (
            Asked("starting_work", dt.date(2026, 11, 27), family_name="Nowak", given_name="Ola"),
            "date_of_birth",
            "in the past",
        ),
    ],
)
def test_less_than_the_minimum_is_refused_saying_what_to_add(
    search: Asked, field: Field, says: str
) -> None:
    errors = refusal(search)
    assert set(errors) == {field} and says in errors[field]


def test_every_field_wrong_is_refused_field_by_field_in_the_form_s_order() -> None:
    search = Asked(
        "",
        DayMonthYear("", "", ""),
        family_name="N*",
        given_name="O",
        postcode="ZZ",
        nhs_number="1",
        upn="2",
    )
    with pytest.raises(Refused) as caught:
        check(search, TODAY)
    order = ["purpose", "date_of_birth", "family_name", "given_name", "postcode"]
    assert list(caught.value.errors) == [*order, "nhs_number", "upn"]
    assert str(caught.value) == "; ".join(caught.value.errors.values())


def test_what_to_add_is_asked_only_once_each_field_is_right() -> None:
    assert set(refusal(asked(given_name="O"))) == {"given_name"}
    assert set(refusal(asked(given_name="Ola"))) == {"search"}


def test_a_refusal_never_repeats_what_was_typed() -> None:
    search = asked(family_name="Zz*qx", nhs_number="4010232138", postcode="QQ9 9QQ")
    message = " ".join(refusal(search).values())
    for typed_value in ("Zz", "4010232138", "QQ9"):
        assert typed_value not in message
    assert "1987" not in " ".join(refusal(typed("29", "2", "1987")).values())


def test_every_purpose_is_accepted_and_nothing_else() -> None:
    for purpose in PURPOSES:
        search = dataclasses.replace(asked(family_name="Nowak", given_name="Ola"), purpose=purpose)
        assert check(search, TODAY).purpose == purpose
    blank = dataclasses.replace(asked(family_name="Nowak", given_name="Ola"), purpose=" ")
    assert "purpose" in refusal(blank)


def test_criteria_built_directly_still_meet_the_minimum() -> None:
    assert Criteria("safeguarding", DOB, family_name="Nowak", district="NW1").district
    assert Criteria("safeguarding", DOB, nhs_number="4010232137").by_identifier
    with pytest.raises(ValueError, match="one of the purposes"):
        Criteria("curiosity", DOB, family_name="Nowak", given_name="Ola")
    with pytest.raises(ValueError, match="minimum criteria") as caught:
        Criteria("safeguarding", DOB, family_name="Nowak")
    assert "Nowak" not in str(caught.value)
    with pytest.raises(ValueError, match="minimum criteria"):
        Criteria("safeguarding", DOB, given_name="Ola", district="NW1")


names = st.text(alphabet=st.characters(categories=["Lu", "Ll"]), min_size=0, max_size=8)


@given(family=names, given_name=names, postcode=st.sampled_from(["", "NW1", "NW1 3AB", "X"]))
def test_whatever_is_accepted_meets_the_minimum_criteria(
    family: str, given_name: str, postcode: str
) -> None:
    try:
        c: Criteria = check(
            asked(family_name=family, given_name=given_name, postcode=postcode), TODAY
        )
    except Refused:
        return
    assert c.family_name and (c.given_name or c.district)
    assert sum(ch.isalpha() for ch in c.family_name) >= 2
