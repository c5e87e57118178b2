"""The minimum criteria of a search: each route in, each refusal and what it asks to add."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactpoint.access.purposes import PURPOSES
from contactpoint.lib.identifiers import upn_check_letter
from contactpoint.search.criteria import Criteria, Refused, parse

TODAY = dt.date(2026, 11, 26)
DOB = {"dob-day": "5", "dob-month": "5", "dob-year": "2016"}


def form(**values: str) -> dict[str, str]:
    return {"purpose": "starting_work", **DOB, **values}


def refusal(**values: str) -> dict[str, str]:
    with pytest.raises(Refused) as caught:
        parse(values, TODAY)
    return caught.value.errors


def test_family_name_date_of_birth_and_given_name_is_a_search() -> None:
    c = parse(form(family_name="Nowak", given_name="Ola"), TODAY)
    assert (c.family_name, c.given_name, c.date_of_birth) == ("Nowak", "Ola", dt.date(2016, 5, 5))
    assert not c.by_identifier


def test_a_postcode_district_or_a_full_postcode_stands_for_the_given_name() -> None:
    assert parse(form(family_name="Nowak", postcode="nw1"), TODAY).district == "NW1"
    full = parse(form(family_name="Nowak", postcode="nw13ab"), TODAY)
    assert str(full.postcode) == "NW1 3AB" and full.district == "NW1"


def test_an_nhs_number_or_upn_with_the_date_of_birth_is_a_search() -> None:
    assert parse(form(nhs_number="401 023 2137"), TODAY).nhs_number == "4010232137"
    upn = upn_check_letter("202100125001") + "202100125001"
    c = parse(form(upn=upn.lower()), TODAY)
    assert c.upn == upn and c.by_identifier


@pytest.mark.parametrize(
    ("values", "field", "says"),
    [
        (form(given_name="Ola"), "search", "Add the child's family name, or an NHS number or UPN"),
        (form(family_name="Nowak"), "search", "Add the child's given name or a postcode"),
        (
            {"purpose": "starting_work", "family_name": "Nowak", "given_name": "Ola"},
            "dob",
            "Enter the child's date of birth",
        ),
        (form(nhs_number="4010232138"), "nhs_number", "Enter a valid NHS number"),
        (form(upn="not a upn"), "upn", "Enter a valid UPN"),
        (form(family_name="Now*", given_name="Ola"), "family_name", "cannot contain wildcards"),
        (form(family_name="N%", given_name="Ola"), "family_name", "cannot contain wildcards"),
        (form(family_name="N", given_name="Ola"), "family_name", "at least 2 letters"),
        (form(family_name="Nowak", given_name="O"), "given_name", "at least 2 letters"),
        (form(family_name="Nowak", postcode="ZZ"), "postcode", "Enter a full postcode"),
        (
            {**form(family_name="Nowak", given_name="Ola"), "purpose": "curiosity"},
            "purpose",
            "Select why",
        ),
        (
            {**form(family_name="Nowak", given_name="Ola"), "dob-day": "31", "dob-month": "2"},
            "dob",
            "real date",
        ),
        ({**form(family_name="Nowak", given_name="Ola"), "dob-year": "2027"}, "dob", "in the past"),
        ({**form(family_name="Nowak", given_name="Ola"), "dob-year": "1990"}, "dob", "up to 25"),
    ],
)
def test_less_than_the_minimum_is_refused_saying_what_to_add(
    values: dict[str, str], field: str, says: str
) -> None:
    errors = refusal(**values)
    assert field in errors and says in errors[field]


def test_a_refusal_never_repeats_what_was_typed() -> None:
    errors = refusal(**form(family_name="Zz*qx", nhs_number="4010232138", postcode="QQ9 9QQ"))
    message = " ".join(errors.values())
    for typed in ("Zz", "4010232138", "QQ9"):
        assert typed not in message


def test_every_purpose_is_accepted_and_nothing_else() -> None:
    for purpose in PURPOSES:
        assert parse({**form(family_name="Nowak", given_name="Ola"), "purpose": purpose}, TODAY)
    assert "purpose" in refusal(**form(family_name="Nowak", given_name="Ola", purpose=""))


names = st.text(alphabet=st.characters(categories=["Lu", "Ll"]), min_size=0, max_size=8)


@given(family=names, given_name=names, postcode=st.sampled_from(["", "NW1", "NW1 3AB", "X"]))
def test_whatever_is_accepted_meets_the_minimum_criteria(
    family: str, given_name: str, postcode: str
) -> None:
    try:
        c: Criteria = parse(
            form(family_name=family, given_name=given_name, postcode=postcode), TODAY
        )
    except Refused:
        return
    assert c.family_name and (c.given_name or c.district)
    assert sum(ch.isalpha() for ch in c.family_name) >= 2
