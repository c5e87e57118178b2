"""A local system's CSV through its mapping: translation, and refusing a bad mapping."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from contactpoint.ingest.mapping import Mapping, MappingError, parse_mapping, read_mapping
from contactpoint.ingest.rows import FeedError
from contactpoint.registry.feeds import COLUMNS, RowParser

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
    assert example.columns["address_line1"] == ("House No", "Street")
    assert example.identifiers == {"camden-lapid": ("Person ID",)}
    assert example.rules["postcode"].upper and "nfa" in example.rules["postcode"].blank


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
    assert [(p.field, p.reason, p.rejects_row) for p in problems] == [
        ("date_of_birth", "is not a date written %d/%m/%Y; ignored", False)
    ]
    assert row["date_of_birth"] == ""


def test_an_extract_date_not_in_its_format_rejects_the_row() -> None:
    _, problems = mapping().translate(values(Extract="2026-11-01"))
    assert [(p.field, p.rejects_row) for p in problems] == [("as_at", True)]


def test_a_value_missing_from_the_value_map_is_a_problem() -> None:
    _, problems = mapping().translate(values(Gender="Boy"))
    assert [(p.field, p.reason, p.rejects_row) for p in problems] == [
        ("sex", "is not a value listed in [values.sex]; ignored", False)
    ]
    assert all("Boy" not in p.reason for p in problems)


def test_a_safety_flag_missing_from_its_value_map_rejects_the_row() -> None:
    text = MINIMAL.replace('as_at = "Extract"', 'as_at = "Extract"\nsensitive = "Flag"')
    text += '[values.sensitive]\nYes = "Y"\nNo = "N"\n'
    _, problems = mapping(text).translate(values(Flag="Maybe"))
    assert [(p.field, p.rejects_row) for p in problems] == [("sensitive", True)]


def test_a_field_of_several_columns_joins_them_with_a_space_skipping_empty_ones() -> None:
    text = MINIMAL + "[columns.address_line1]\n"
    text = MINIMAL.replace(
        'as_at = "Extract"', 'as_at = "Extract"\naddress_line1 = ["House No", "Flat", "Street"]'
    )
    m = mapping(text)
    row, problems = m.translate(
        values(**{"House No": " 12 ", "Flat": "", "Street": "Acacia  Road"})
    )
    assert problems == () and row["address_line1"] == "12 Acacia Road"
    row, _ = m.translate(values(**{"House No": "", "Flat": "", "Street": ""}))
    assert row["address_line1"] == ""


def test_a_date_in_day_month_and_year_columns_reads_through_its_format() -> None:
    text = MINIMAL.replace('date_of_birth = "DOB"', 'date_of_birth = ["Day", "Month", "Year"]')
    text = text.replace('date_of_birth = "%d/%m/%Y"', 'date_of_birth = "%d %m %Y"')
    row, problems = mapping(text).translate(values(Day="4", Month="3", Year="2015"))
    assert problems == () and row["date_of_birth"] == "2015-03-04"


def test_dates_may_have_several_formats_tried_in_order() -> None:
    text = MINIMAL.replace(
        'date_of_birth = "%d/%m/%Y"', 'date_of_birth = ["%d/%m/%Y", "%Y-%m-%d", "%d.%m.%y"]'
    )
    m = mapping(text)
    for written in ("04/03/2015", "2015-03-04", "04.03.15"):
        row, problems = m.translate(values(DOB=written))
        assert problems == () and row["date_of_birth"] == "2015-03-04"
    _, problems = m.translate(values(DOB="March 2015"))
    assert problems[0].reason == ("is not a date written %d/%m/%Y or %Y-%m-%d or %d.%m.%y; ignored")


def test_blank_values_count_as_empty_for_every_field_or_one() -> None:
    text = MINIMAL.replace('as_at = "Extract"', 'as_at = "Extract"\npostcode = "Postcode"')
    text += '[rules]\nblank_values = ["N/K", "Not  known"]\n'
    text += '[rules.postcode]\nblank_values = ["NFA"]\nupper = true\n'
    text += '[rules.date_of_birth]\nblank_values = ["00/00/0000"]\n'
    m = mapping(text)
    row, problems = m.translate(values(Forename="n/k", DOB="00/00/0000", Postcode="nfa"))
    assert problems == ()
    assert (row["given_name"], row["date_of_birth"], row["postcode"]) == ("", "", "")
    row, _ = m.translate(values(Postcode="not KNOWN"))
    assert row["postcode"] == ""
    row, _ = m.translate(values(Postcode="nw1 3ab"))
    assert row["postcode"] == "NW1 3AB"


def test_declared_identifiers_travel_in_the_row_under_their_scheme() -> None:
    text = MINIMAL + (
        "[identifiers]\n"
        'lapid = { column = "Person ID", scheme = "camden-lapid" }\n'
        'mosaic = { column = ["Area", "Mosaic No"], scheme = "mosaic-2" }\n'
    )
    m = mapping(text)
    row, problems = m.translate(values(**{"Person ID": " P42 ", "Area": "N", "Mosaic No": "7"}))
    assert problems == ()
    assert (row["identifier:camden-lapid"], row["identifier:mosaic-2"]) == ("P42", "N 7")
    record = RowParser(dt.date(2026, 11, 25)).parse(row)
    assert record is not None
    assert record.identifiers == (("camden-lapid", "P42"), ("mosaic-2", "N 7"))
    row, _ = m.translate(values(**{"Person ID": "", "Area": "", "Mosaic No": ""}))
    record = RowParser(dt.date(2026, 11, 25)).parse(row)
    assert record is not None and record.identifiers == ()


def test_the_header_must_hold_an_identifiers_column() -> None:
    m = mapping(MINIMAL + '[identifiers]\nlapid = { column = "Person ID", scheme = "lapid" }\n')
    with pytest.raises(FeedError, match=r"no column 'Person ID' \(identifier lapid\)"):
        m.header_index("eh.csv", HEADER)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('lapid = "Person ID"', "must be { column"),
        ('lapid = { column = "Person ID" }', "must be { column"),
        ('lapid = { column = "P", scheme = "Camden LAPID" }', "scheme must be 1 to 40 lower-case"),
        ('lapid = { column = "P", scheme = "camden_lapid" }', "scheme must be 1 to 40 lower-case"),
        ('lapid = { column = [], scheme = "x" }', "is an empty list"),
        (
            'a = { column = "P", scheme = "x" }\nb = { column = "Q", scheme = "x" }',
            "declared twice",
        ),
    ],
)
def test_a_wrong_identifier_is_refused(entry: str, message: str) -> None:
    assert message in refusal(MINIMAL + f"[identifiers]\n{entry}\n")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[rules]\nblank_values = "N/K"\n', "[rules] blank_values must be a list"),
        ('[rules]\nblank_values = [""]\n', "[rules] blank_values must be a list"),
        ("[rules.upn]\nupper = true\n", "[rules.upn] cleans a field with no column"),
        ("[rules.sex]\nlower = true\n", "[rules.sex] must be a table of blank_values"),
        ('[rules.sex]\nupper = "yes"\n', "[rules.sex] upper must be true or false"),
        ("[rules]\ncolour = 1\n", "[rules] has unknown key 'colour'"),
    ],
)
def test_wrong_rules_are_refused(extra: str, message: str) -> None:
    assert message in refusal(MINIMAL + extra)


def test_a_mapping_may_leave_its_source_to_the_command_line() -> None:
    shared = mapping(
        MINIMAL.replace('code = "camden_early_help"\n', "").replace(
            'name = "Camden early help"\n', ""
        )
    )
    assert (shared.code, shared.name) == ("", "")


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


@pytest.mark.parametrize("field", ["record_id", "family_name"])
def test_a_missing_required_mapping_is_refused(field: str) -> None:
    lines = [x for x in MINIMAL.splitlines() if not x.startswith(f"{field} =")]
    assert f"[columns] must map {field}" in refusal("\n".join(lines))


def test_a_mapping_without_a_date_of_birth_is_accepted() -> None:
    lines = [x for x in MINIMAL.splitlines() if not x.startswith("date_of_birth =")]
    row, problems = mapping("\n".join(lines)).translate(values())
    assert problems == () and row["date_of_birth"] == ""


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
