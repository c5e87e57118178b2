"""Loading a local system's files through the CLI: a mapped CSV, and FHIR Patients."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contactpoint.ingest.loader import LocalSource, load_local
from contactpoint.ingest.mapping import read_mapping
from contactpoint.ingest.models import LoadedFile, QuarantinedRow
from contactpoint.ingest.rows import RowReader, SourceRow
from contactpoint.keystore.models import DataKey
from contactpoint.registry.golden import golden_record
from contactpoint.registry.involvement_facts import with_links
from contactpoint.registry.models import Child, Involvement, Source, SourceRecord
from contactpoint.registry.sources import local_source
from tests.support.children import roles_of
from tests.support.cli import run_cli
from tests.support.feeds import ORGANISATIONS

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

CODE = "camden_early_help"
MAPPING = f"""
[source]
code = "{CODE}"
name = "Camden early help"
[csv]
delimiter = ";"
[columns]
record_id = "Case Ref"
given_name = "Forename"
family_name = "Surname"
date_of_birth = "DOB"
sex = "Gender"
postcode = "Post Code"
nhs_number = "NHS No"
[dates]
date_of_birth = "%d/%m/%Y"
[values.sex]
Male = "M"
Female = "F"
[constants]
as_at = 2026-11-01
org_code = "100001"
org_role = "school"
"""
HEADER = ["Case Ref", "Forename", "Surname", "DOB", "Gender", "Post Code", "NHS No"]
AMELIA = ["EH-1", "Amelia", "Hartley", "04/03/2015", "Female", "NW1 3AB", "401 023 2137"]
OSCAR = ["EH-2", "Oscar", "Bell", "05/06/2016", "male", "", "4010232145"]


@pytest.fixture
def local(tmp_path: Path) -> Path:
    """A folder with the mapping and the organisations already loaded (the school 100001)."""
    folder = tmp_path / "local"
    (folder / "orgs").mkdir(parents=True)
    (folder / "orgs" / "organisations.csv").write_text(ORGANISATIONS, encoding="utf-8")
    run_cli("load", str(folder / "orgs"), "--quiet")
    (folder / "mapping.toml").write_text(MAPPING, encoding="utf-8")
    return folder


def write_csv(folder: Path, rows: list[list[str]], name: str = "extract.csv") -> Path:
    path = folder / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";").writerows([HEADER, *rows])
    return path


def load_mapped(folder: Path, path: Path, *extra: str, check: bool = True) -> Any:
    mapping = str(folder / "mapping.toml")
    return run_cli("load", "--source", CODE, "--mapping", mapping, str(path), *extra, check=check)


def state() -> tuple[int, ...]:
    models = (Source, Child, SourceRecord, Involvement, LoadedFile, QuarantinedRow)
    return (*(m.objects.count() for m in models), DataKey.objects.count())


def golden_facts(child_id: uuid.UUID) -> dict[str, tuple[str, tuple[str, object]]]:
    """The golden record's facts that a mapped CSV can give, with their source and as-at."""
    record = golden_record(child_id)
    assert record is not None
    return {
        k: (f.value, (f.provenance.source, f.provenance.as_at))
        for k in ("given_name", "family_name", "date_of_birth", "sex", "postcode", "nhs_number")
        if (f := getattr(record, k)) is not None
    }


def test_a_mapped_csv_makes_children_with_the_right_facts(local: Path) -> None:
    result = load_mapped(local, write_csv(local, [AMELIA, OSCAR]))
    assert "2 rows loaded (2 new children" in result.stdout
    source = Source.objects.get(code=CODE)
    assert (source.kind, source.name) == (Source.Kind.LOCAL, "Camden early help")
    facts = sorted((golden_facts(c.id) for c in Child.objects.all()), key=repr)
    assert [{k: v for k, (v, _) in f.items()} for f in facts] == [
        {
            "given_name": "Amelia",
            "family_name": "Hartley",
            "date_of_birth": "2015-03-04",
            "sex": "F",
            "postcode": "NW1 3AB",
            "nhs_number": "4010232137",
        },
        {
            "given_name": "Oscar",
            "family_name": "Bell",
            "date_of_birth": "2016-06-05",
            "sex": "M",
            "nhs_number": "4010232145",
        },
    ]
    assert {(s, str(d)) for f in facts for _, (s, d) in f.values()} == {(CODE, "2026-11-01")}
    rows = with_links(Involvement.objects.order_by("pk"))
    roles = {(i.organisation.code, role) for i, role in zip(rows, roles_of(rows), strict=True)}
    assert roles == {("100001", "school")}


def test_loading_a_mapped_csv_twice_changes_nothing(local: Path) -> None:
    path = write_csv(local, [AMELIA, OSCAR])
    load_mapped(local, path)
    before = state()
    again = load_mapped(local, path)
    assert "0 file(s) loaded, 1 already loaded; 0 rows loaded" in again.stdout
    assert state() == before


def test_bad_rows_are_quarantined_by_source_line_and_field_and_good_rows_go_on(
    local: Path,
) -> None:
    rows = [
        AMELIA,
        ["", "Oscar", "Bell", "05/06/2016", "Male", "", "4010232145"],  # no record id
        ["EH-3", "Kit", "Bell", "05/06/2016", "Boy", "", "4010232153"],  # no such sex
        ["EH-4", "Ida", "", "05/06/2016", "Female", "NOT KNOWN", "4010232161"],  # two problems
        ["EH-5", "Kai"],  # too few fields
    ]
    result = load_mapped(local, write_csv(local, rows))
    assert "2 rows loaded" in result.stdout and "3 rejected" in result.stdout
    listing = run_cli("quarantine", "list", "--source", CODE).stdout
    assert set(listing.splitlines()[1:]) == {
        f"{CODE}\textract.csv\t3\trecord_id\trejected\tis empty",
        f"{CODE}\textract.csv\t4\tsex\tfield_ignored\tis not a value listed in [values.sex]; "
        "ignored",
        f"{CODE}\textract.csv\t5\tfamily_name\trejected\tis empty",
        f"{CODE}\textract.csv\t5\tpostcode\tfield_ignored\tpostcode is not in a valid UK "
        "format; ignored",
        f"{CODE}\textract.csv\t6\trow\trejected\thas the wrong number of fields",
    }
    for secret in ("Oscar", "Boy", "NOT KNOWN", "Kai"):
        assert secret not in listing and secret not in result.stderr
    assert Child.objects.count() == 2
    assert LoadedFile.objects.get(source__code=CODE).rows_quarantined == 3


def test_a_corrected_mapping_reads_the_file_again_and_loads_what_it_now_can(
    local: Path,
) -> None:
    path = write_csv(local, [AMELIA, ["EH-3", "Kit", "Bell", "05/06/2016", "Boy", "", ""]])
    assert "2 rows loaded" in load_mapped(local, path).stdout
    corrected = MAPPING.replace('Male = "M"\n', 'Male = "M"\nBoy = "M"\n')
    (local / "mapping.toml").write_text(corrected, encoding="utf-8")
    again = load_mapped(local, path)
    assert "1 file(s) loaded" in again.stdout
    # The row loaded without its sex the first time; now with it.
    assert "1 rows loaded" in again.stdout and "1 unchanged" in again.stdout


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('family_name = "Surname"\n', "", "[columns] must map family_name"),
        ("[csv]", "[csv]\nquote = '\"'", "[csv] has unknown key 'quote'"),
        ('postcode = "Post Code"', 'postcode = "Postcode"', "no column 'Postcode' (postcode)"),
        ('code = "camden_early_help"', 'code = "nhs_demographics"', "is a national source's"),
        ('org_code = "100001"', 'org_code = "EH0001"', "organisation 'EH0001' is not known"),
    ],
)
def test_a_bad_mapping_is_refused_with_a_specific_message_and_nothing_changes(
    local: Path, old: str, new: str, message: str
) -> None:
    path = write_csv(local, [AMELIA])
    assert old in MAPPING
    (local / "mapping.toml").write_text(MAPPING.replace(old, new), encoding="utf-8")
    before = state()
    source = "nhs_demographics" if "national" in message else CODE
    args = ("load", "--source", source, "--mapping", str(local / "mapping.toml"), str(path))
    result = run_cli(*args, check=False)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert state() == before


def test_the_mapping_must_be_for_the_source_named(local: Path) -> None:
    path = write_csv(local, [AMELIA])
    mapping = str(local / "mapping.toml")
    args = ("load", "--source", "islington_eh", "--mapping", mapping, str(path))
    result = run_cli(*args, check=False)
    assert result.returncode == 2
    assert "is for source 'camden_early_help', not 'islington_eh'" in result.stderr
    assert not Source.objects.filter(code__in=[CODE, "islington_eh"]).exists()


def test_a_local_source_never_takes_a_national_code() -> None:
    with pytest.raises(ValueError, match="is a national source's"):
        local_source("school_census", "Our school census")
    assert local_source("eh", "Early help").kind == Source.Kind.LOCAL
    assert not Source.objects.filter(code="school_census").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", CODE], "--source goes with --mapping or --fhir"),
        (["--fhir"], "--fhir needs --source CODE"),
        (["--mapping", "m.toml"], "--mapping needs --source CODE"),
        (["--source", CODE, "--fhir", "--mapping", "m.toml"], "not allowed with argument"),
        (["--source-name", "X"], "--source-name goes with --mapping or --fhir"),
        (["--source", CODE, "--mapping", "m.toml", "--identifier-system", "u=x"], "with --fhir"),
        (["--source", CODE, "--fhir", "--identifier-system", "u=X"], "SYSTEM=SCHEME"),
        (["--bulk", "--source", CODE], "--source goes with --mapping or --fhir"),
        (["--source", "child_benefit", "--fhir"], "is a national source's"),
    ],
)
def test_options_that_do_not_go_together_are_usage_errors(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_cli("load", *args, str(tmp_path), check=False)
    assert result.returncode == 2
    assert "usage: contactpoint load" in result.stderr and message in result.stderr


def test_an_interrupted_mapped_load_resumes_where_it_stopped(local: Path) -> None:
    path = write_csv(local, [AMELIA, OSCAR, [*AMELIA[:1], "Amy", *AMELIA[2:]]])
    mapping = read_mapping(local / "mapping.toml")
    source = LocalSource(mapping.code, mapping.name)

    def killed_after_two(file: Path) -> Iterator[SourceRow]:
        rows = mapping.read(file)
        yield next(rows)
        yield next(rows)
        raise KeyboardInterrupt

    interrupted = RowReader(killed_after_two, mapping.encoding, mapping.digest)
    with pytest.raises(KeyboardInterrupt):
        load_local(source, [path], interrupted, batch_size=1)
    assert LoadedFile.objects.get().lines_done == 2
    report = load_local(source, [path], mapping.reader(), batch_size=1)
    assert (report.files_loaded, report.result.loaded) == (1, 1)
    assert LoadedFile.objects.get().completed_at is not None
    assert Child.objects.count() == 2


def fhir_patient(record_id: str, nhs: str, given: str, **changes: Any) -> dict[str, Any]:
    base = {
        "resourceType": "Patient",
        "id": record_id,
        "meta": {"lastUpdated": "2026-10-15T08:00:00Z"},
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}],
        "name": [{"use": "official", "given": [given], "family": "Hartley"}],
        "gender": "female",
        "birthDate": "2015-03-04",
        "address": [{"use": "home", "line": ["3 Elm Road"], "postalCode": "NW1 3AB"}],
    }
    return base | changes


def test_a_fhir_bundle_loads_and_an_invalid_resource_is_quarantined(tmp_path: Path) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": fhir_patient("p1", "4010232137", "Amelia")},
            {"resource": fhir_patient("p2", "4010232145", "Isla", birthDate="04/03/2015")},
            {"resource": {"resourceType": "Observation", "id": "o1"}},
        ],
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    args = ("load", "--source", "gp_system", "--source-name", "GP system", "--fhir", str(path))
    result = run_cli(*args)
    assert "1 rows loaded (1 new children" in result.stdout and "2 rejected" in result.stdout
    record = golden_record(Child.objects.get().id)
    assert record is not None and record.given_name and record.nhs_number and record.postcode
    assert (record.given_name.value, record.nhs_number.value, record.postcode.value) == (
        "Amelia",
        "4010232137",
        "NW1 3AB",
    )
    assert record.given_name.provenance.source == "gp_system"
    assert str(record.given_name.provenance.as_at) == "2026-10-15"
    assert Source.objects.get(code="gp_system").name == "GP system"
    listing = run_cli("quarantine", "list", "--source", "gp_system").stdout
    assert (
        "gp_system\tbundle.json\t2\tbirthDate\trejected\tis not a valid value of its FHIR type"
        in listing
    )
    assert "gp_system\tbundle.json\t3\tresourceType\trejected\tis not Patient" in listing
    assert "04/03/2015" not in listing and "Isla" not in listing
    assert "0 rows loaded" in run_cli(*args).stdout  # twice: a no-op


def test_an_ndjson_file_loads_line_by_line(tmp_path: Path) -> None:
    lines = [
        json.dumps(fhir_patient("p1", "4010232137", "Amelia")),
        "{not json",
        json.dumps(fhir_patient("p2", "4010232145", "Isla", gender="girl")),
        json.dumps(fhir_patient("p3", "4010232153", "Oscar", gender="male")),
    ]
    path = tmp_path / "patients.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli("load", "--source", "gp_system", "--fhir", str(path))
    assert "2 rows loaded (2 new children" in result.stdout and "2 rejected" in result.stdout
    assert set(QuarantinedRow.objects.values_list("line", "field", "reason")) == {
        (2, "resource", "is not valid JSON"),
        (3, "gender", "is not male, female, other or unknown"),
    }
    sexes = {r.sex.value for c in Child.objects.all() if (r := golden_record(c.id)) and r.sex}
    assert sexes == {"F", "M"}


def test_a_fhir_file_that_is_not_a_bundle_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(fhir_patient("p1", "4010232137", "Amelia")), encoding="utf-8")
    before = state()
    result = run_cli("load", "--source", "gp_system", "--fhir", str(path), check=False)
    assert result.returncode == 2 and "not a FHIR Bundle" in result.stderr
    assert state() == before
