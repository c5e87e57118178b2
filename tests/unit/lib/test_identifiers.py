"""Identifier rules, cross-checked against python-stdnum, an independent implementation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.gb import upn as stdnum_upn

from contactpoint.lib.identifiers import (
    CPID_ALPHABET,
    CPID_BODY_LENGTH,
    CPID_CHECK_ALPHABET,
    UPN_ALPHABET,
    InvalidIdentifier,
    new_cpid,
    new_cpids,
    nhs_check_digit,
    normalise_postcode,
    parse_postcode,
    upn_check_letter,
    validate_cpid,
    validate_nhs_number,
    validate_upn,
)


def test_it_accepts_the_reference_nhs_number_only_in_the_test_range() -> None:
    assert validate_nhs_number("943 476 5870", allow_test_range=True) == "9434765870"
    with pytest.raises(InvalidIdentifier, match="outside the ranges"):
        validate_nhs_number("9434765870")


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("9434765871", "modulus 11"),
        ("12345", "10 digits"),
        ("40102321ab", "10 digits"),
        ("0000000000", "outside the ranges"),
        ("5000000005", "outside the ranges"),
    ],
)
def test_it_names_the_nhs_rule_broken_without_the_value(raw: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier, match=rule) as caught:
        validate_nhs_number(raw)
    assert raw not in str(caught.value)


@given(st.integers(min_value=400_000_000, max_value=799_999_999))
def test_nhs_check_digit_agrees_with_the_weighted_sum(first_nine: int) -> None:
    digits = f"{first_nine:09d}"
    total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True))
    check = nhs_check_digit(digits)
    if check is None:
        assert total % 11 == 1  # 11 - 1 = 10: never issued
    else:
        assert (total + check) % 11 == 0


def test_it_validates_upn_check_letters_like_the_reference() -> None:
    assert validate_upn("b801200005001") == "B801200005001"
    with pytest.raises(InvalidIdentifier, match="check letter"):
        validate_upn("A801200005001")


@given(st.from_regex(r"\A[0-9]{11}\Z"), st.sampled_from("0123456789" + UPN_ALPHABET))
def test_upn_check_letter_matches_python_stdnum(digits: str, last: str) -> None:
    upn = upn_check_letter(digits + last) + digits + last
    assert stdnum_upn.calc_check_digit(upn) == upn[0]
    assert validate_upn(upn) == upn


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        (" nw1  3ab ", "NW1 3AB"),
        ("M1 1AE", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("W1A 0AX", "W1A 0AX"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("GIR 0AA", "GIR 0AA"),
        ("SW1A OAA", "SW1A 0AA"),
    ],
)
def test_it_normalises_valid_postcodes(raw: str, normal: str) -> None:
    assert normalise_postcode(raw) == normal
    assert str(parse_postcode(raw)) == normal


@pytest.mark.parametrize("raw", ["QA1 1AA", "AI1 1AA", "NW1 4CD", "NW1", "123 456", "SW1A 1AAA"])
def test_it_refuses_invalid_postcodes(raw: str) -> None:
    with pytest.raises(InvalidIdentifier, match="postcode"):
        parse_postcode(raw)


def test_postcode_district_is_the_outward_code() -> None:
    assert parse_postcode("SW1A 1AA").district == "SW1A"


def test_contactpoint_ids_are_random_and_self_checking() -> None:
    ids = {new_cpid() for _ in range(2000)}
    assert len(ids) == 2000
    for cpid in list(ids)[:50]:
        assert validate_cpid(cpid) == cpid
        assert validate_cpid(cpid.lower().replace("-", "")) == cpid


def test_a_mistyped_contactpoint_id_fails_its_check() -> None:
    cpid = new_cpid()
    body = cpid.replace("-", "")[2:]
    swapped = body[1] + body[0] + body[2:]
    substituted = ("1" if body[0] != "1" else "2") + body[1:]
    for wrong in (swapped, substituted):
        if wrong != body:
            with pytest.raises(InvalidIdentifier):
                validate_cpid("CP" + wrong)


@pytest.mark.parametrize("count", [0, 1, 2, 3, 2001])
def test_contactpoint_ids_drawn_at_once_are_as_many_valid_and_distinct(count: int) -> None:
    ids = new_cpids(count)
    assert len(set(ids)) == count
    for cpid in ids:
        assert validate_cpid(cpid) == cpid


def test_every_symbol_turns_up_in_every_place_of_both_ids_of_a_pair() -> None:
    # Two IDs share 15 random bytes: the first and the second each take their own 60 bits.
    seen: list[list[set[str]]] = [[set() for _ in range(CPID_BODY_LENGTH)] for _ in range(2)]
    ids = new_cpids(4000)
    for n, cpid in enumerate(ids):
        for place, symbol in enumerate(cpid.replace("-", "")[2:-1]):
            seen[n % 2][place].add(symbol)
    assert all(symbols == set(CPID_ALPHABET) for half in seen for symbols in half)
    # The check symbol depends on the whole body: all 37 turn up.
    assert {cpid[-1] for cpid in ids} == set(CPID_CHECK_ALPHABET)


def test_every_symbol_turns_up_in_every_place_of_a_contactpoint_id() -> None:
    # Each place takes its own 5 of the 60 random bits: none is stuck or left out.
    seen: list[set[str]] = [set() for _ in range(CPID_BODY_LENGTH)]
    for _ in range(2000):
        body = new_cpid().replace("-", "")[2:-1]
        for place, symbol in enumerate(body):
            seen[place].add(symbol)
    assert all(symbols == set(CPID_ALPHABET) for symbols in seen)
