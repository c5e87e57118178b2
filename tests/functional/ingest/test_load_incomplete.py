"""Local systems' files as they really are: incomplete rows, several columns to a field,
declared identifiers, one mapping for several systems, and a clear exit status."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from contactpoint.ingest import organisations
from contactpoint.ingest.bulk import worker as bulkworker
from contactpoint.ingest.bulk.load import LocalFiles, bulk_load_folder
from contactpoint.ingest.loader import LocalSource
from contactpoint.ingest.mapping import read_mapping
from contactpoint.ingest.models import LoadedFile, QuarantinedRow
from contactpoint.linkage.models import LinkDecision, ReviewItem
from contactpoint.registry import golden, payloads
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.golden import golden_record
from contactpoint.registry.models import Child, Source, SourceRecord
from tests.support.cli import run_cli
from tests.support.feeds import ORGANISATIONS, feed_row, write_feed
from tests.support.registry import empty_everything, fingerprint

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

CODE = "camden_early_help"
MAPPING = f"""
[source]
code = "{CODE}"
name = "Camden early help"
[columns]
record_id = "Case Ref"
given_name = "Forename"
family_name = "Surname"
date_of_birth = "DOB"
address_line1 = ["House No", "Street"]
postcode = "Post Code"
nhs_number = "NHS No"
[identifiers]
lapid = {{ column = "Person ID", scheme = "camden-lapid" }}
[dates]
date_of_birth = ["%d/%m/%Y", "%Y-%m-%d"]
[rules]
blank_values = ["N/K"]
[constants]
as_at = 2026-11-01
org_code = "100001"
org_role = "school"
"""
HEADER = ["Case Ref", "Forename", "Surname", "DOB", "House No", "Street", "Post Code", "NHS No"]
HEADER += ["Person ID"]
AMELIA = ["EH-1", "Amelia", "Hartley", "04/03/2015", "12", "Acacia Road", "NW1 3AB"]
AMELIA += ["4010232137", "P-0042"]
OSCAR = ["EH-2", "Oscar", "Bell", "2016-06-05", "", "Elm Row", "NW1 3AB", "4010232145", ""]


@pytest.fixture
def local(tmp_path: Path) -> Path:
    """A folder with the mapping, and the organisations already loaded (the school 100001)."""
    folder = tmp_path / "local"
    (folder / "orgs").mkdir(parents=True)
    (folder / "orgs" / "organisations.csv").write_text(ORGANISATIONS, encoding="utf-8")
    run_cli("load", str(folder / "orgs"), "--quiet")
    (folder / "mapping.toml").write_text(MAPPING, encoding="utf-8")
    return folder


def write_csv(folder: Path, rows: list[list[str]], name: str = "extract.csv") -> Path:
    (folder / "in").mkdir(exist_ok=True)
    path = folder / "in" / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path


def load(folder: Path, path: Path, *extra: str, source: str = CODE) -> Any:
    mapping = str(folder / "mapping.toml")
    args = ("load", "--source", source, "--mapping", mapping, str(path), "--quiet", *extra)
    return run_cli(*args, check=False)


def payload(sr: SourceRecord) -> dict[str, Any]:
    """A source record's sealed canonical form, opened."""
    owner = sr.child_id or sr.id
    cipher = ciphers_for({owner})[owner]
    body = payloads.open_payload(cipher, sr.id, sr.payload)
    assert body is not None
    doc: dict[str, Any] = json.loads(body)
    return doc


def notes() -> set[tuple[int, str, str]]:
    return set(QuarantinedRow.objects.values_list("line", "field", "severity"))


def test_a_row_without_a_given_name_or_a_uk_postcode_loads_with_a_note(local: Path) -> None:
    rows = [AMELIA, ["EH-2", "", "Bell", "05/06/2016", "", "", "75008", "4010232145", ""]]
    result = load(local, write_csv(local, rows))
    assert result.returncode == 0, result.stderr
    assert "2 rows loaded (2 new children" in result.stdout and "0 rejected" in result.stdout
    assert "2 field(s) ignored" in result.stdout
    assert notes() == {(3, "given_name", "field_ignored"), (3, "postcode", "field_ignored")}
    goldens = [golden_record(c.id) for c in Child.objects.all()]
    bell = next(g for g in goldens if g and g.family_name and g.family_name.value == "Bell")
    assert bell.given_name is None
    assert bell.postcode is None and bell.date_of_birth
    assert bell.date_of_birth.value == "2016-06-05"
    listing = run_cli("quarantine", "list").stdout
    assert "75008" not in listing and "Bell" not in listing


def test_a_row_without_a_date_of_birth_loads_waiting_and_never_founds_a_child(
    local: Path,
) -> None:
    rows = [
        AMELIA,
        ["EH-2", "Oscar", "Bell", "", "", "", "", "4010232145", ""],
        ["EH-3", "Kit", "Bell", "31/02/2016", "", "", "", "", ""],
        ["EH-4", "Ida", "Bell", "05/06/2099", "", "", "", "", ""],
    ]
    result = load(local, write_csv(local, rows))
    assert result.returncode == 0, result.stderr
    assert "4 rows loaded (1 new children, 3 waiting" in result.stdout
    assert {(line, f) for line, f, _ in notes()} == {
        (3, "date_of_birth"),
        (4, "date_of_birth"),
        (5, "date_of_birth"),
    }
    waiting = SourceRecord.objects.filter(child__isnull=True)
    assert [payload(sr)["date_of_birth"] for sr in waiting] == [None, None, None]


def test_several_columns_make_one_field_and_blank_values_are_empty(local: Path) -> None:
    rows = [AMELIA, ["EH-2", "Oscar", "Bell", "2016-06-05", "N/K", "Elm Row", "N/K"]]
    rows[1] += ["4010232145", ""]
    result = load(local, write_csv(local, rows))
    assert result.returncode == 0, result.stderr
    lines = {}
    for child in Child.objects.all():
        record = golden_record(child.id)
        assert record is not None and record.given_name and record.address_line1
        lines[record.given_name.value] = record.address_line1.value
        if record.given_name.value == "Oscar":
            assert record.postcode is None  # N/K is no postcode, and no problem either
    assert lines == {"Amelia": "12 Acacia Road", "Oscar": "Elm Row"}
    assert notes() == set()


def test_declared_identifiers_travel_in_the_record_and_records_without_keep_their_form(
    local: Path,
) -> None:
    result = load(local, write_csv(local, [AMELIA, OSCAR]))
    assert result.returncode == 0, result.stderr
    docs = {payload(sr)["record_id"]: payload(sr) for sr in SourceRecord.objects.all()}
    assert docs["EH-1"]["identifiers"] == {"camden-lapid": "P-0042"}
    assert "identifiers" not in docs["EH-2"]
    assert "P-0042" not in result.stdout + result.stderr


def test_one_mapping_serves_several_sources_named_on_the_command_line(local: Path) -> None:
    shared = MAPPING.replace(f'code = "{CODE}"\n', "").replace('name = "Camden early help"\n', "")
    (local / "mapping.toml").write_text(shared, encoding="utf-8")
    first = load(local, write_csv(local, [AMELIA], "a.csv"), "--source-name", "Camden EH")
    second = load(local, write_csv(local, [OSCAR], "b.csv"), source="islington_eh")
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert set(Source.objects.filter(kind="local").values_list("code", "name")) == {
        (CODE, "Camden EH"),
        ("islington_eh", "islington_eh"),
    }
    named = load(local, write_csv(local, [OSCAR], "c.csv"), source="islington_eh")
    assert named.returncode == 0  # the name is kept from the first time
    (local / "mapping.toml").write_text(MAPPING, encoding="utf-8")
    refused = load(local, write_csv(local, [OSCAR], "d.csv"), "--source-name", "X")
    assert refused.returncode == 2 and "names its source: leave out --source-name" in (
        refused.stderr
    )


def test_a_file_whose_every_row_is_rejected_ends_non_zero_with_the_reasons(local: Path) -> None:
    rows = [["EH-1", "Amelia", "", "04/03/2015", "", "", "", "", ""], ["", "Oscar", "Bell"]]
    rows[1] += ["2016-06-05", "", "", "", "", ""]
    result = load(local, write_csv(local, rows))
    assert result.returncode == 1
    failure = [line for line in result.stderr.splitlines() if line.startswith("contactpoint:")]
    assert failure == [
        "contactpoint: extract.csv: every one of its 2 rows was rejected (family_name is "
        "empty: 1; record_id is empty: 1); nothing of it loaded"
    ]
    assert "Amelia" not in result.stderr and "Oscar" not in result.stderr
    assert "0 rows loaded" in result.stdout and "2 rejected" in result.stdout
    again = load(local, write_csv(local, rows))  # already loaded: still says so
    assert again.returncode == 1 and "every one of its 2 rows" in again.stderr


def test_a_header_only_file_ends_non_zero_and_a_partial_load_ends_zero(local: Path) -> None:
    empty = load(local, write_csv(local, [], "empty.csv"))
    assert empty.returncode == 1
    assert "contactpoint: empty.csv: holds no records (only a header, or nothing)" in (empty.stderr)
    partial = load(local, write_csv(local, [AMELIA, ["EH-9", "Kai", ""] + [""] * 6], "p.csv"))
    assert partial.returncode == 0, partial.stderr
    assert "1 rows loaded" in partial.stdout and "1 rejected" in partial.stdout


NHS = {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "4010232137"}
MRN = {"system": "https://example.org/mrn", "value": "M-1"}


def fhir_patient(record_id: str, nhs: str, given: str, **changes: Any) -> dict[str, Any]:
    base = {
        "resourceType": "Patient",
        "id": record_id,
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}],
        "name": [{"use": "official", "given": [given], "family": "Hartley"}],
        "gender": "female",
        "birthDate": "2015-03-04",
        "address": [{"use": "home", "line": ["3 Elm Road"], "postalCode": "NW1 3AB"}],
    }
    return base | changes


@pytest.mark.slow
def test_a_bulk_first_load_takes_a_mapped_csv_and_resumes_as_a_folder_does(local: Path) -> None:
    rows = [AMELIA, OSCAR, ["EH-3", "Kit", "Bell", "", "", "", "", "", ""]]
    rows.append(["", "No", "Id"] + [""] * 6)
    path = write_csv(local, rows)
    result = load(local, path, "--bulk", "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert "3 rows loaded (2 new children, 1 waiting" in result.stdout
    assert "1 rejected" in result.stdout and "bulk:" in result.stdout
    assert (4, "date_of_birth", "field_ignored") in notes()  # Kit, on the fourth line
    kit = SourceRecord.objects.get(child__isnull=True)
    assert payload(kit)["date_of_birth"] is None and kit.status == "pending"
    amelia = next(sr for sr in SourceRecord.objects.all() if payload(sr)["record_id"] == "EH-1")
    assert payload(amelia)["identifiers"] == {"camden-lapid": "P-0042"}
    assert Source.objects.get(code=CODE).kind == "local"
    again = load(local, path, "--bulk")
    assert again.returncode == 0 and "0 file(s) loaded, 1 already loaded" in again.stdout
    rows_again = load(local, path)
    assert rows_again.returncode == 0 and "1 already loaded; 0 rows loaded" in rows_again.stdout
    assert LoadedFile.objects.get().completed_at is not None


@pytest.mark.slow
def test_a_bulk_first_load_takes_fhir(tmp_path: Path) -> None:
    lines = [
        json.dumps(fhir_patient("p1", "4010232137", "Amelia", identifier=[NHS, MRN])),
        json.dumps(fhir_patient("p2", "4010232145", "Isla", birthDate="2015-03")),
        json.dumps({"resourceType": "Observation", "id": "o1"}),
    ]
    path = tmp_path / "patients.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ("load", "--bulk", "--workers", "1", "--source", "gp_system", "--fhir", str(path))
    system = "--identifier-system=https://example.org/mrn=example-mrn"
    result = run_cli(*args, "--source-name", "GP system", system, "--quiet")
    assert "2 rows loaded (1 new children, 1 waiting" in result.stdout
    assert "1 rejected" in result.stdout
    assert notes() == {(2, "date_of_birth", "field_ignored"), (3, "resourceType", "rejected")}
    assert Source.objects.get(code="gp_system").name == "GP system"
    assert Child.objects.count() == 1
    amelia = SourceRecord.objects.get(child__isnull=False)
    assert payload(amelia)["identifiers"] == {"example-mrn": "M-1"}


def test_linkage_evaluate_gives_age_bands_for_a_mapped_source(local: Path) -> None:
    assert load(local, write_csv(local, [AMELIA, OSCAR])).returncode == 0
    truth = local / "truth" / "truth.csv"
    truth.parent.mkdir()
    truth.write_text(f"source,record_id,child_key\n{CODE},EH-1,C1\n{CODE},EH-2,C2\n")
    args = ("linkage", "evaluate", "--truth", str(truth), "--as-at", "2026-11-01", "--json")
    result = run_cli(*args)
    figures = json.loads(result.stdout)
    assert figures["records_with_birth_date"] == 2
    assert {b: f["records"] for b, f in figures["by_age_band"].items()} == {"11-15": 1, "5-10": 1}
    assert "2015" not in result.stdout and "Amelia" not in result.stdout


@pytest.mark.slow
def test_a_bulk_mapped_load_stopped_after_a_chunk_resumes_as_one_clean_run(
    local: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [AMELIA, OSCAR, ["EH-3", "Kit", "Bell", "", "", "", "", "", ""]]
    rows.append(["EH-4", "Ida", "Moss", "07/08/2017", "3", "Oak Lane", "NW1 3AB", "", ""])
    path = write_csv(local, rows)
    mapping = read_mapping(local / "mapping.toml")
    files = LocalFiles(LocalSource(CODE, mapping.name), [path], mapping.reader())
    bulk_load_folder(path, chunk_size=1, workers=1, local=files)
    clean, counts = fingerprint(), (LinkDecision.objects.count(), ReviewItem.objects.count())
    empty_everything()
    organisations.load(local / "orgs" / "organisations.csv")
    written: list[int] = []

    def stop_after_one(writer: Any, chunk: Any) -> Any:
        if written:
            raise KeyboardInterrupt  # as a load killed after its first chunk committed
        written.append(1)
        return real(writer, chunk)

    real = bulkworker.write_chunk
    monkeypatch.setattr(bulkworker, "write_chunk", stop_after_one)
    with pytest.raises(KeyboardInterrupt):
        bulk_load_folder(path, chunk_size=1, workers=1, local=files)
    monkeypatch.undo()
    assert 0 < SourceRecord.objects.count() < 4

    report = bulk_load_folder(path, chunk_size=1, workers=1, local=files)

    assert report.chunks_skipped == 1 and report.chunks_written > 0
    assert fingerprint() == clean
    assert (LinkDecision.objects.count(), ReviewItem.objects.count()) == counts


@pytest.mark.slow
def test_a_child_takes_its_date_of_birth_from_a_record_that_has_one(feeds: Path) -> None:
    """The NHS feed outranks every other source, but its record without a date of birth
    never hides the school's date: in the golden record chosen in memory by a bulk load,
    and chosen again from the database (golden.refresh)."""
    child = {
        "as_at": "2026-11-01",
        "given_name": "Ola",
        "family_name": "Nowak",
        "sex": "F",
        "postcode": "NW1 1AA",
        "nhs_number": "4010232137",
    }
    nhs = feed_row(record_id="N1", **child, org_code="A81001", org_role="gp")
    school = feed_row(record_id="S1", **child, date_of_birth="2016-05-05")
    write_feed(feeds, "nhs_demographics", [nhs])
    write_feed(feeds, "school_census", [school])

    bulk_load_folder(feeds, workers=1)

    only = Child.objects.get()
    assert SourceRecord.objects.filter(child=only).count() == 2
    for _ in range(2):
        record = golden_record(only.id)
        assert record is not None and record.date_of_birth is not None
        assert (record.date_of_birth.value, record.date_of_birth.provenance.source) == (
            "2016-05-05",
            "school_census",
        )
        assert record.given_name and record.given_name.provenance.source == "nhs_demographics"
        golden.refresh([only.id])
