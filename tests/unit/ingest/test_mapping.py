"""A local system's CSV through its mapping: translation, and refusing a bad mapping."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from contactpoint.ingest.feeds import COLUMNS, RowParser
from contactpoint.ingest.mapping import Mapping, MappingError, parse_mapping, read_mapping
from contactpoint.ingest.rows import FeedError

EXAMPLE = Path(__file__).parents[3] / "docs" / "examples" / "camden-early-help.toml"
MINIMAL = """
[source]
code = "camden_early_help"
name = "Camden early help"
[columns]
record_id = "Case Ref"
given_name = "Forename"
family_name = "Surname"
date_of_birth = "DOB"
sex = "Gender"
as_at = "Extract"
[dates]
date_of_birth = "%d/%m/%Y"
as_at = "%d/%m/%Y"
[values.sex]
Male = "M"
Female = "F"
"""
NO_AS_AT = MINIMAL.replace('as_at = "Extract"\n', "").replace('as_at = "%d/%m/%Y"\n', "")
HEADER = ["Case Ref", "Forename", "Surname", "DOB", "Gender", "Extract"]


def mapping(text: str = MINIMAL) -> Mapping:
    return parse_mapping(tomllib.loads(text))


def refusal(text: str) -> str:
    with pytest.raises(MappingError) as caught:
        mapping(text)
    return str(caught.value)


def values(**changes: str) -> dict[str, str]:
    row = {
        "Case Ref": "EH-1",
        "Forename": "Amelia",
        "Surname": "Hartley",
        "DOB": "04/03/2015",
        "Gender": "female",
        "Extract": "01/11/2026",
    }
    return row | changes


def test_the_example_in_the_docs_is_a_valid_mapping() -> None:
    example = read_mapping(EXAMPLE)
    assert (example.code, example.constants["org_role"]) == ("camden_early_help", "social_worker")
    assert example.values["sex"]["not known"] == "U"


def test_a_row_becomes_a_standard_row_that_the_standard_parser_accepts() -> None:
    row, problems = mapping().translate(values(Forename="  Amelia   Rose ", Gender="FEMALE"))
    assert problems == ()
    assert set(row) == set(COLUMNS)
    assert (row["record_id"], row["given_name"], row["sex"]) == ("EH-1", "Amelia Rose", "F")
    assert (row["date_of_birth"], row["as_at"]) == ("2015-03-04", "2026-11-01")
    assert RowParser(dt.date(2026, 11, 25)).parse(row) is not None


def test_constants_fill_every_row() -> None:
    text = NO_AS_AT + "[constants]\nas_at = 2026-10-31\n"
    text += 'org_code = "EH0001"\norg_role = "social_worker"\n'
    row, _ = mapping(text).translate(values())
    assert (row["as_at"], row["org_code"], row["org_role"]) == (
        "2026-10-31",
        "EH0001",
        "social_worker",
    )


def test_a_date_not_in_the_declared_format_names_the_standard_field_not_the_value() -> None:
    row, problems = mapping().translate(values(DOB="2015-03-04"))
    assert [(p.field, p.reason) for p in problems] == [
        ("date_of_birth", "is not a date written %d/%m/%Y")
    ]
    assert row["date_of_birth"] == ""


def test_a_value_missing_from_the_value_map_is_a_problem() -> None:
    _, problems = mapping().translate(values(Gender="Boy"))
    assert [(p.field, p.reason) for p in problems] == [
        ("sex", "is not a value listed in [values.sex]")
    ]
    assert all("Boy" not in p.reason for p in problems)


def test_an_empty_value_stays_empty_without_a_problem() -> None:
    row, problems = mapping().translate(values(Gender="", Forename=""))
    assert problems == () and row["sex"] == "" and row["given_name"] == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("colour = 1\n", "unknown table or key 'colour'"),
        ('[csv]\nquote = "\'"\n', "[csv] has unknown key 'quote'"),
        ("[extras]\na = 1\n", "unknown table or key 'extras'"),
    ],
)
def test_unknown_keys_are_refused(change: str, message: str) -> None:
    text = change + MINIMAL if not change.startswith("[") else MINIMAL + change
    assert message in refusal(text)


def test_an_unknown_standard_field_is_refused() -> None:
    text = MINIMAL.replace('given_name = "Forename"', 'first_name = "Forename"')
    assert "[columns] has unknown key 'first_name'" in refusal(text)


@pytest.mark.parametrize("field", ["record_id", "family_name", "date_of_birth"])
def test_a_missing_required_mapping_is_refused(field: str) -> None:
    lines = [x for x in MINIMAL.splitlines() if not x.startswith(f"{field} =")]
    text = "\n".join(lines).replace('date_of_birth = "%d/%m/%Y"', "")
    assert f"[columns] must map {field}" in refusal(text)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('as_at = "Extract"', "", "as_at needs a column in [columns] or a date in [constants]"),
        ('code = "camden_early_help"', 'code = "nhs_demographics"', "is a national source's"),
        ('code = "camden_early_help"', 'code = "Camden EH"', "must be 1 to 40 lower-case"),
        ('name = "Camden early help"', 'name = ""', "[source] name is missing or empty"),
        ('Male = "M"', 'Male = "Boy"', "[values.sex] 'Male' maps to 'Boy', which is not one"),
        ('as_at = "%d/%m/%Y"', 'as_at = "%m/%Y"', "is not a strptime format of a whole date"),
        ("[values.sex]", "[values.upn]", "[values.upn] translates a field with no column"),
        ('Female = "F"', 'male = "F"', "[values.sex] lists 'male' twice"),
    ],
)
def test_a_wrong_mapping_is_refused_with_a_specific_message(
    old: str, new: str, message: str
) -> None:
    assert old in MINIMAL
    assert message in refusal(MINIMAL.replace(old, new))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[csv]\nencoding = "klingon"\n', "[csv] encoding is not an encoding"),
        ('[csv]\ndelimiter = ";;"\n', "[csv] delimiter must be one character"),
        ('[constants]\nas_at = "2026-11-01"\n', "[constants] as_at must be a TOML date"),
        ('[constants]\nsex = "F"\n', "[constants] has unknown key 'sex'"),
        ('[constants]\norg_code = "EH0001"\n', "org_code and org_role come together"),
        ('[constants]\norg_role = "teacher"\n', "[constants] org_role must be one of"),
    ],
)
def test_wrong_options_and_constants_are_refused(extra: str, message: str) -> None:
    base = NO_AS_AT if extra.startswith("[constants]") else MINIMAL
    assert message in refusal(base + extra)


def test_a_field_in_both_columns_and_constants_is_refused() -> None:
    assert "as_at is in both [columns] and [constants]" in refusal(
        MINIMAL + "[constants]\nas_at = 2026-11-01\n"
    )


def test_a_mapping_file_that_is_not_toml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text("[source\ncode = 1\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"m\.toml is not valid TOML: .*line 1"):
        read_mapping(path)
    with pytest.raises(MappingError, match="does not exist"):
        read_mapping(tmp_path / "nowhere.toml")


def test_the_digest_follows_meaning_not_layout() -> None:
    same = mapping("# a comment\n" + MINIMAL.replace(" = ", "="))
    other = mapping(MINIMAL.replace('Male = "M"', 'Man = "M"'))
    assert same.digest == mapping().digest != other.digest


def test_a_header_without_a_mapped_column_is_refused_naming_the_column() -> None:
    with pytest.raises(FeedError) as caught:
        mapping().header_index("eh.csv", ["Case Ref", "Forename", "Surname", "Gender", "Extract"])
    assert str(caught.value) == (
        "eh.csv: the header has no column 'DOB' (date_of_birth) named in the mapping for "
        "source 'camden_early_help'"
    )
    with pytest.raises(FeedError, match="column 'DOB' twice"):
        mapping().header_index("eh.csv", [*HEADER, "DOB"])


def test_a_file_is_read_in_its_encoding_and_delimiter(tmp_path: Path) -> None:
    text = MINIMAL + '[csv]\ndelimiter = ";"\nencoding = "cp1252"\n'
    path = tmp_path / "eh.csv"
    lines = [
        ";".join(["Extra", *HEADER]),
        ";".join(["x", "EH-1", "Zoë", "Hartley", "04/03/2015", "Female", "01/11/2026"]),
        "",
        "y;EH-2;Kai",
        ";".join(["x", "EH-3", "Kai", "Hartley", "31/02/2015", "Male", "01/11/2026"]),
    ]
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    rows = list(mapping(text).read(path))
    assert [(r.line, r.row is None, [p.field for p in r.problems]) for r in rows] == [
        (2, False, []),
        (4, True, []),
        (5, False, ["date_of_birth"]),
    ]
    assert rows[0].row is not None and rows[0].row["given_name"] == "Zoë"


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "eh.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(FeedError, match="empty"):
        list(mapping().read(path))
