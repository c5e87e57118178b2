"""FHIR Patients as standard rows: the mapping, and problems that name a path, not a value."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from contactpoint.ingest import fhir
from contactpoint.ingest.rows import FeedError, SourceRow
from contactpoint.registry.feeds import RowParser

TODAY = dt.date(2026, 11, 25)
NHS = {"system": fhir.NHS_NUMBER_SYSTEM, "value": "4010232137"}


def patient(**changes: Any) -> dict[str, Any]:
    """A made-up child as a FHIR Patient; `changes` replace top-level elements."""
    base: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "ehr-1",
        "meta": {"lastUpdated": "2026-11-01T09:30:00Z"},
        "identifier": [{"system": "https://example.org/mrn", "value": "M1"}, NHS],
        "name": [
            {"use": "usual", "given": ["Millie"], "family": "Hartley"},
            {"use": "official", "given": ["Amelia", "Rose", "Ann"], "family": "Hartley"},
            {"use": "maiden", "family": "Bell"},
        ],
        "gender": "female",
        "birthDate": "2015-03-04",
        "address": [
            {"use": "home", "line": ["1 Old Road"], "period": {"end": "2025-01-31"}},
            {"use": "temp", "line": ["9 Camp Site"], "postalCode": "M1 1AE"},
            {
                "use": "home",
                "line": ["Flat 2", "3 Elm Road"],
                "city": "London",
                "postalCode": "NW1 3AB",
            },
        ],
    }
    return base | changes


def row(resource: object) -> SourceRow:
    return fhir.patient_row(7, resource, TODAY)


def problems(resource: object) -> list[tuple[str, str]]:
    return [(p.field, p.reason) for p in row(resource).problems]


def test_a_patient_becomes_a_standard_row_the_standard_parser_accepts() -> None:
    result = row(patient())
    assert result.line == 7 and result.problems == () and result.row is not None
    r = result.row
    assert (r["record_id"], r["nhs_number"], r["as_at"]) == ("ehr-1", "4010232137", "2026-11-01")
    assert (r["given_name"], r["middle_names"], r["family_name"]) == (
        "Amelia",
        "Rose Ann",
        "Hartley",
    )
    assert (r["former_family_name"], r["date_of_birth"], r["sex"]) == ("Bell", "2015-03-04", "F")
    assert (r["address_line1"], r["address_line2"], r["town"], r["postcode"]) == (
        "Flat 2",
        "3 Elm Road",
        "London",
        "NW1 3AB",
    )
    assert RowParser(TODAY).parse(r) is not None


def test_without_an_official_name_or_home_address_the_first_current_one_is_used() -> None:
    resource = patient(
        name=[{"given": ["Kai"], "family": "Bell"}, {"given": ["K"], "family": "B"}],
        address=[
            {"line": ["1 Old Road"], "period": {"end": "2026-10"}},
            {"use": "work", "line": ["5 School Lane"], "period": {"end": "2026-11"}},
        ],
    )
    r = row(resource).row
    assert r is not None
    assert (r["given_name"], r["family_name"], r["address_line1"]) == (
        "Kai",
        "Bell",
        "5 School Lane",
    )


def test_without_an_id_an_identifier_is_the_record_id_and_without_meta_as_at_is_today() -> None:
    resource = patient(meta=None, identifier=[NHS])
    del resource["id"], resource["meta"]
    r = row(resource).row
    assert r is not None
    assert (r["record_id"], r["as_at"]) == (f"{fhir.NHS_NUMBER_SYSTEM}|4010232137", "2026-11-25")


@pytest.mark.parametrize(
    ("gender", "sex"), [("male", "M"), ("female", "F"), ("other", "U"), ("unknown", "U")]
)
def test_gender_becomes_sex(gender: str, sex: str) -> None:
    r = row(patient(gender=gender)).row
    assert r is not None and r["sex"] == sex


def test_a_gender_that_is_not_an_administrative_gender_is_a_problem() -> None:
    assert problems(patient(gender="boy")) == [("gender", "is not male, female, other or unknown")]


def test_a_patient_with_no_id_or_identifier_is_a_problem() -> None:
    resource = patient(identifier=[])
    del resource["id"]
    assert problems(resource) == [("id", "is missing, and no identifier has a value")]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"birthDate": "04/03/2015"}, [("birthDate", "is not a valid value of its FHIR type")]),
        ({"name": [{"given": [7]}]}, [("name[0].given[0]", "must be a string")]),
        ({"name": "Amelia Hartley"}, [("name", "must be a list")]),
        ({"favouriteColour": "red"}, [("favouriteColour", "is not an element of this FHIR type")]),
        ({"id": "not an id!"}, [("id", "is not in the form its FHIR type requires")]),
        ({"active": "maybe"}, [("active", "must be true or false")]),
        (
            {"multipleBirthInteger": 1.5},
            [("multipleBirthInteger", "is not valid FHIR (int_from_float)")],
        ),
    ],
)
def test_invalid_fhir_names_the_path_and_the_rule(
    changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    result = row(patient(**changes))
    assert result.row is None
    assert [(p.field, p.reason) for p in result.problems] == expected


def test_a_reason_never_quotes_a_value() -> None:
    secret = "Zebedee-4010232137"
    resource = patient(birthDate=secret, gender=secret, id=secret, **{secret: secret})
    found = row(resource).problems
    assert found and all(secret not in p.reason and secret not in p.field for p in found)
    assert ("?", "is not an element of this FHIR type") in [(p.field, p.reason) for p in found]


def test_a_resource_that_is_not_a_patient_is_a_problem() -> None:
    assert problems({"resourceType": "Observation", "id": "o1"}) == [
        ("resourceType", "is not Patient")
    ]
    assert problems({"id": "p1"}) == [("resourceType", "is not Patient")]
    assert problems(["Patient"]) == [("resource", "is not a JSON object")]


def test_ndjson_is_read_line_by_line_and_a_bad_line_does_not_stop_the_rest(
    tmp_path: Path,
) -> None:
    path = tmp_path / "patients.ndjson"
    lines = [
        json.dumps(patient()).encode(),
        b"",
        b'{"resourceType": "Patient", "id": ',
        "Zoë".encode("latin-1"),
        json.dumps(patient(id="ehr-2", gender="boy")).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    rows = list(fhir.read(path, TODAY))
    assert [(r.line, [(p.field, p.reason) for p in r.problems]) for r in rows] == [
        (1, []),
        (3, [("resource", "is not valid JSON")]),
        (4, [("resource", "is not UTF-8")]),
        (5, [("gender", "is not male, female, other or unknown")]),
    ]


def test_a_bundle_is_read_entry_by_entry(tmp_path: Path) -> None:
    path = tmp_path / "patients.json"
    entries = [{"resource": patient()}, {"fullUrl": "urn:x"}, {"resource": {"resourceType": "X"}}]
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    rows = list(fhir.read(path, TODAY))
    assert [(r.line, [p.field for p in r.problems]) for r in rows] == [
        (1, []),
        (2, ["resource"]),
        (3, ["resourceType"]),
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("p.json", '{"resourceType": "Patient"}', "not a FHIR Bundle"),
        ("p.json", '{"resourceType": "Bundle", "entry": {}}', "entry must be a list"),
        ("p.json", '{"resourceType": ', "not a JSON document"),
        ("p.xml", "<Bundle/>", "a FHIR file ends .json"),
    ],
)
def test_a_file_that_is_not_a_bundle_is_refused_whole(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FeedError, match=message):
        list(fhir.read(path, TODAY))


def test_identifiers_of_a_system_given_a_scheme_travel_as_local_identifiers() -> None:
    schemes = {"https://example.org/mrn": "example-mrn"}
    result = fhir.patient_row(7, patient(), TODAY, schemes)
    assert result.row is not None
    record = RowParser(TODAY).parse(result.row)
    assert record is not None and record.identifiers == (("example-mrn", "M1"),)
    plain = fhir.patient_row(7, patient(), TODAY).row
    assert plain is not None
    assert RowParser(TODAY).parse(plain).identifiers == ()  # type: ignore[union-attr]


def test_a_reader_with_schemes_keeps_its_files_progress_apart() -> None:
    assert fhir.reader().salt == ""
    salted = fhir.reader(schemes={"https://example.org/mrn": "example-mrn"}).salt
    assert salted and salted != fhir.reader(schemes={"https://example.org/mrn": "other"}).salt
