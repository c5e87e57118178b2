"""The fast paths of parsing a row agree with the plain way of doing the same thing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactpoint.ingest.batch import canonical_json
from contactpoint.lib.identifiers import (
    InvalidIdentifier,
    normalise_nhs_number,
    parse_postcode,
    validate_nhs_number,
)
from contactpoint.linkage.records import from_canonical, from_feed
from contactpoint.registry.feeds import (
    COLUMNS,
    MAX_TEXT,
    CarerRecord,
    FeedRecord,
    Problem,
    RowParser,
    fast_constructor,
)
from tests.support.feeds import AMELIA, feed_row

TODAY = dt.date(2026, 11, 25)
ROW = feed_row(
    record_id="R1",
    as_at="2026-11-01",
    **AMELIA,
    carer1_given_name="Jo",
    carer1_family_name="Hartley",
    carer1_relationship="mother",
    carer1_parental_responsibility="Y",
    carer1_email="jo@example.com",
)
# What a value may hold that tidying or the checks care about: the separator the whole-row
# check joins with, spaces, other whitespace, control characters, and characters that are
# neither printable nor whitespace.
AWKWARD = [" ", "  ", "|", "| ", " |", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f"]
AWKWARD += ["\x00", "\x08", "\x7f", "\x85", "\xa0", "\u2003", "\u2028", "\u200b", "é", "a", "Z1"]


def per_column(values: list[str]) -> tuple[list[str], list[Problem]]:
    """Each value checked and tidied on its own: what the whole-row check must agree with."""
    parser = RowParser(TODAY)
    texts = [parser._text(c, v) for c, v in zip(COLUMNS, values, strict=True)]
    return texts, parser.problems


def whole_row(values: list[str]) -> tuple[list[str], list[Problem]]:
    parser = RowParser(TODAY)
    return list(parser._texts(values)), parser.problems


value = st.one_of(
    st.lists(st.sampled_from(AWKWARD), max_size=6).map("".join),
    st.lists(st.sampled_from([" ", "|", "a"]), max_size=5).map("".join),
    st.builds(lambda a, b: a + "x" * b, st.sampled_from(AWKWARD), st.integers(95, 105)),
)


@given(st.dictionaries(st.sampled_from(COLUMNS), value, max_size=4))
def test_the_whole_row_check_agrees_with_each_column_on_its_own(changes: dict[str, str]) -> None:
    values = list({**ROW, **changes}.values())
    assert whole_row(values) == per_column(values)


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize(
    "spoil",
    ["\x00", "a\x1fb", "\x0b", "a  b", " a", "a ", "a\tb", "\xa0", "x" * (MAX_TEXT + 1), "|"],
)
def test_each_column_is_checked_and_tidied_as_on_its_own(column: str, spoil: str) -> None:
    values = list({**ROW, column: spoil}.values())
    texts, problems = per_column(values)
    assert whole_row(values) == (texts, problems)
    assert all(p.field == column for p in problems)


def test_each_column_becomes_its_own_field() -> None:
    row = {**ROW, "middle_names": "Middle", "former_family_name": "Former", "upn": "B801200005001"}
    row |= {"address_line1": "Line 1", "address_line2": "Line 2", "town": "Town"}
    row |= {"org_code": "100001", "org_role": "school", "involvement_start": "2020-09-01"}
    row |= {"sensitive": "Y", "carer1_phone": "0100", "carer2_given_name": "Sam"}
    row |= {"carer2_relationship": "father", "carer2_parental_responsibility": "N"}
    expected: dict[str, object] = {**row, "sensitive": True, "postcode": parse_postcode("NW1 3AB")}
    expected |= {"carer1_parental_responsibility": True, "carer2_parental_responsibility": False}
    for column in ("as_at", "date_of_birth", "involvement_start"):
        expected[column] = dt.date.fromisoformat(row[column])
    record = RowParser(TODAY).parse(row)
    assert record is not None
    for column in COLUMNS:
        if column.startswith("carer"):  # carer1_given_name: carers[0].given_name
            got = getattr(record.carers[int(column[5]) - 1], column[len("carer1_") :])
        else:
            got = getattr(record, column)
        assert got == expected[column], column


def test_a_none_or_a_missing_value_counts_as_empty() -> None:
    parser = RowParser(TODAY)
    expected = parser.parse({**ROW, "middle_names": "", "upn": ""})
    expected_problems = parser.problems
    row: dict[str, str | None] = {**ROW, "middle_names": None}
    del row["upn"]
    assert parser.parse(row) == expected  # type: ignore[arg-type]
    assert parser.problems == expected_problems


def test_parse_and_parse_values_agree() -> None:
    parser = RowParser(TODAY)
    for row in (ROW, {**ROW, "nhs_number": "401-023-2137 ", "carer2_email": "no"}):
        record, problems = parser.parse(row), parser.problems
        assert parser.parse_values(list(row.values())) == record
        assert parser.problems == problems


def test_a_fast_constructed_record_is_the_one_its_init_makes() -> None:
    record = RowParser(TODAY).parse(ROW)
    assert record is not None
    values = {f.name: getattr(record, f.name) for f in dataclasses.fields(FeedRecord)}
    made = FeedRecord(**values)
    assert record == made
    assert hash(record) == hash(made)
    assert list(vars(record)) == list(vars(made))
    assert list(vars(record.carers[0])) == [f.name for f in dataclasses.fields(CarerRecord)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.sex = "M"  # type: ignore[misc]


def test_the_fast_constructor_wants_every_field_by_keyword_in_order() -> None:
    new = fast_constructor(CarerRecord)
    fields: dict[str, Any] = dict(
        given_name="Jo",
        family_name="Hartley",
        relationship="mother",
        parental_responsibility=True,
        phone="",
        email="",
    )
    assert new(**fields) == CarerRecord(**fields)
    reordered = dict(reversed(fields.items()))
    with pytest.raises(TypeError, match="in order"):
        new(**reordered)
    with pytest.raises(TypeError, match="in order"):
        new(given_name="Jo")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="in order"):
        new(*fields.values())

    @dataclasses.dataclass(frozen=True, slots=True)
    class Slotted:
        a: int

    with pytest.raises(TypeError, match="own __init__"):
        fast_constructor(Slotted)


def test_the_canonical_form_and_its_json_are_unchanged() -> None:
    for row in (ROW, {**ROW, "postcode": "", "upn": "", "given_name": 'Zoë "Jo"\\'}):
        record = RowParser(TODAY).parse(row)
        assert record is not None
        # The form records had before local identifiers existed: a record without any has
        # no "identifiers" key, so its digest and payload are what they were.
        doc: dict[str, object] = {
            f.name: getattr(record, f.name)
            for f in dataclasses.fields(record)
            if f.name != "identifiers"
        }
        doc["carers"] = [dataclasses.asdict(c) for c in record.carers]
        doc["postcode"] = str(record.postcode) if record.postcode else None
        doc["as_at"] = record.as_at.isoformat()
        assert record.date_of_birth is not None
        doc["date_of_birth"] = record.date_of_birth.isoformat()
        doc["involvement_start"] = None
        assert list(record.canonical().items()) == list(doc.items())
        assert canonical_json(record) == json.dumps(doc, sort_keys=True)
        assert from_feed("u", record) == from_canonical("u", record.canonical())


postcodes = st.from_regex(
    r"(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][0-9][ABCDEFGHJKSTUW]|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]) ?[0-9Oo][ABD-HJLNP-UW-Z]{2}",
    fullmatch=True,
)


@given(postcodes, st.booleans())
def test_a_parsed_postcode_gives_itself_back_from_its_text(raw: str, lower: bool) -> None:
    """Why from_feed may standardise a record's Postcode without parsing its text again."""
    postcode = parse_postcode(raw.lower() if lower else raw)
    assert parse_postcode(str(postcode)) == postcode
    record = RowParser(TODAY).parse({**ROW, "postcode": raw})
    assert record is not None
    assert from_feed("u", record) == from_canonical("u", record.canonical())


def plain_nhs(value: str) -> tuple[str | None, list[Problem]]:
    """How a row's NHS number was read before: the digits checked, then validated again."""
    if not value:
        return None, []
    if not re.fullmatch(r"\d{10}", normalise_nhs_number(value)):
        return None, [Problem("nhs_number", "must be 10 digits")]
    try:
        return validate_nhs_number(value), []
    except InvalidIdentifier as exc:
        return None, [Problem("nhs_number", f"{exc}; ignored", rejects_row=False)]


@given(st.text(st.sampled_from("0123456789٣४ -\t\xa0x"), max_size=14))
def test_an_nhs_number_is_read_as_before(value: str) -> None:
    parser = RowParser(TODAY)
    assert (parser._nhs(value), parser.problems) == plain_nhs(value)
