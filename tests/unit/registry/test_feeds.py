"""Row validation: each problem names the field and the rule, never the value."""

from __future__ import annotations

import datetime as dt

import pytest

from contactpoint.registry.feeds import COLUMNS, FeedRecord, RowParser
from tests.support.feeds import feed_row

TODAY = dt.date(2026, 11, 25)
GOOD = feed_row(
    record_id="R1",
    as_at="2026-11-01",
    given_name="Amelia",
    family_name="Hartley",
    date_of_birth="2015-03-04",
    sex="F",
    postcode="nw1 3ab",
    nhs_number="401 023 2137",
    upn="B801200005001",
    org_code="100001",
    org_role="school",
    sensitive="N",
    carer1_given_name="Jo",
    carer1_family_name="Hartley",
    carer1_relationship="mother",
    carer1_parental_responsibility="Y",
    carer1_email="jo@example.com",
)


def parse(**changes: str) -> tuple[object, list[tuple[str, str, bool]]]:
    parser = RowParser(TODAY)
    record = parser.parse({**GOOD, **changes})
    return record, [(p.field, p.reason, p.rejects_row) for p in parser.problems]


def test_a_good_row_is_normalised() -> None:
    record, problems = parse()
    assert problems == []
    assert record is not None
    assert str(record.postcode) == "NW1 3AB"  # type: ignore[attr-defined]
    assert record.nhs_number == "4010232137"  # type: ignore[attr-defined]
    assert record.carers[0].parental_responsibility is True  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"family_name": ""}, "family_name", "is empty"),
        ({"record_id": ""}, "record_id", "is empty"),
        ({"as_at": ""}, "as_at", "is empty"),
        ({"sex": "X"}, "sex", "M, F, U"),
        ({"nhs_number": "40102X2137"}, "nhs_number", "10 digits"),
        ({"upn": "B80120000"}, "upn", "a letter, 11 digits"),
        ({"carer1_relationship": "uncle-ish"}, "carer1_relationship", "not a known"),
        ({"carer1_email": "not an address"}, "carer1_email", "not an e-mail"),
        ({"org_role": ""}, "org_role", "together"),
        ({"given_name": "A" * 101}, "given_name", "longer than 100"),
        ({"family_name": "Hart\x00ley"}, "family_name", "control characters"),
    ],
)
def test_it_rejects_a_malformed_row_naming_field_and_rule(
    changes: dict[str, str], field: str, reason: str
) -> None:
    record, problems = parse(**changes)
    assert record is None
    assert any(f == field and reason in r and rejects for f, r, rejects in problems)
    for value in changes.values():
        if len(value) > 3:
            assert all(value not in r for _, r, _ in problems)


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"nhs_number": "4010232138"}, "nhs_number"), ({"upn": "A801200005001"}, "upn")],
)
def test_a_mistyped_identifier_is_ignored_not_used(changes: dict[str, str], field: str) -> None:
    record, problems = parse(**changes)
    assert record is not None
    assert getattr(record, field) is None
    assert [(f, rejects) for f, _, rejects in problems] == [(field, False)]


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"date_of_birth": ""}, "date_of_birth", "is empty; loaded without it"),
        ({"date_of_birth": "2013-02-30"}, "date_of_birth", "is not a real date; ignored"),
        ({"date_of_birth": "04/03/2015"}, "date_of_birth", "YYYY-MM-DD; ignored"),
        ({"date_of_birth": "2027-01-01"}, "date_of_birth", "in the future; ignored"),
        ({"date_of_birth": "1990-01-01"}, "date_of_birth", "more than 26 years ago; ignored"),
        ({"given_name": ""}, "given_name", "is empty; loaded without it"),
        ({"postcode": "ZZ99 9ZZZ"}, "postcode", "valid UK format; ignored"),
        ({"postcode": "75008"}, "postcode", "ignored"),  # a French postcode
        ({"postcode": "NOT KNOWN"}, "postcode", "ignored"),
    ],
)
def test_an_incomplete_row_loads_without_the_field_and_a_note(
    changes: dict[str, str], field: str, reason: str
) -> None:
    record, problems = parse(**changes)
    assert record is not None
    assert getattr(record, field) in (None, "")
    assert [(f, rejects) for f, _, rejects in problems] == [(field, False)]
    assert reason in problems[0][1]
    value = next(iter(changes.values()))
    if len(value) > 3:
        assert all(value not in r for _, r, _ in problems)


def test_a_record_without_a_date_of_birth_has_a_null_one_in_its_canonical_form() -> None:
    record = RowParser(TODAY).parse({**GOOD, "date_of_birth": ""})
    assert record is not None
    doc = record.canonical()
    assert doc["date_of_birth"] is None
    assert FeedRecord.from_canonical(doc) == record


def test_identifiers_travel_sorted_tidied_and_only_when_there_are_some() -> None:
    plain = RowParser(TODAY).parse(GOOD)
    assert plain is not None and "identifiers" not in plain.canonical()
    row = {
        **GOOD,
        "identifier:camden-lapid": "  P 0042 ",
        "identifier:bexley-id": "B-7",
        "identifier:empty-one": "  ",
    }
    record = RowParser(TODAY).parse(row)
    assert record is not None
    assert record.identifiers == (("bexley-id", "B-7"), ("camden-lapid", "P 0042"))
    doc = record.canonical()
    assert doc["identifiers"] == {"bexley-id": "B-7", "camden-lapid": "P 0042"}
    assert FeedRecord.from_canonical(doc) == record
    # Everything else of the canonical form is what it was without identifiers.
    assert {k: v for k, v in doc.items() if k != "identifiers"} == plain.canonical()


def test_a_record_without_identifiers_keeps_its_canonical_form() -> None:
    """The digest of every record loaded before identifiers existed stays the same."""
    record = RowParser(TODAY).parse(GOOD)
    assert record is not None
    assert list(record.canonical()) == [f for f in COLUMNS if not f.startswith("carer")] + [
        "carers"
    ]


def test_every_problem_in_a_row_is_reported_at_once() -> None:
    _, problems = parse(family_name="", sex="Q", date_of_birth="x")
    assert {f for f, _, _ in problems} == {"family_name", "sex", "date_of_birth"}


def test_the_feed_has_thirty_columns_in_a_fixed_order() -> None:
    assert len(COLUMNS) == 30
    assert COLUMNS[:3] == ("record_id", "as_at", "given_name")
