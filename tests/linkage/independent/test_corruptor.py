"""The independent corruptor: seeded, each slip at about its rate, files a mapping reads."""

from __future__ import annotations

import csv
import random
from collections import Counter
from dataclasses import fields, replace
from pathlib import Path

import pytest

from contactpoint.corrupt.errors import KEYBOARD, NICKNAMES, Rates, keyboard_slip, ocr_slip
from contactpoint.corrupt.export import (
    AS_AT,
    EARLY_HELP,
    Written,
    read_source,
    write_independent,
)
from contactpoint.corrupt.febrl import uk_postcode
from contactpoint.corrupt.people import Person, people
from contactpoint.ingest.mapping import read_mapping
from contactpoint.lib.identifiers import is_valid_postcode

SEED = 7


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Written:
    """Enough people for every rate to show within a few points."""
    return write_independent(tmp_path_factory.mktemp("big"), 4000, SEED)


def rows_by_person(written: Written) -> dict[str, dict[str, dict[str, str]]]:
    """person key -> source code -> that source's row."""
    truth = {}
    with written.truth.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            truth[(row["source"], row["record_id"])] = row["child_key"]
    out: dict[str, dict[str, dict[str, str]]] = {}
    for source in written.sources:
        for row in read_source(source):
            out.setdefault(truth[(source.code, row["record_id"])], {})[source.code] = row
    return out


def test_the_same_seed_writes_the_same_files_and_another_seed_others(tmp_path: Path) -> None:
    one, two, other = (
        write_independent(tmp_path / name, 200, seed)
        for name, seed in (("a", 1), ("b", 1), ("c", 2))
    )
    for a, b, c in zip(one.sources, two.sources, other.sources, strict=True):
        assert a.csv.read_bytes() == b.csv.read_bytes() != c.csv.read_bytes()
        assert a.mapping.read_text() == b.mapping.read_text()
    assert one.truth.read_bytes() == two.truth.read_bytes() != other.truth.read_bytes()


def test_every_kind_of_slip_happens_at_about_its_rate(big: Written) -> None:
    rates = Rates()
    for f in fields(Rates):
        tried, applied = big.tried[f.name], big.applied[f.name]
        assert tried > 300, f.name
        assert abs(applied / tried - getattr(rates, f.name)) < 0.02 + getattr(rates, f.name) / 4, (
            f.name
        )


def test_the_files_show_the_slips(big: Written) -> None:
    clean = {p.key: p for p in people(4000, SEED, AS_AT)}
    seen: Counter[str] = Counter()
    rows = 0
    for key, copies in rows_by_person(big).items():
        person = clean[key]
        for row in copies.values():
            rows += 1
            seen.update(kind for kind, shown in _shown(person, row).items() if shown)
    assert 0.04 < seen["no birth date"] / rows < 0.06  # 5% asked for
    assert 0.015 < seen["no given name"] / rows < 0.03
    assert 0.02 < seen["names swapped"] / rows < 0.04
    assert 0.04 < seen["no postcode"] / rows < 0.06
    assert 0.02 < seen["house number in line 2"] / rows < 0.06
    assert seen["nickname"] > 50 and seen["given name misspelt"] / rows > 0.1


def _shown(person: Person, row: dict[str, str]) -> dict[str, bool]:
    given, family = row["given_name"].casefold(), row["family_name"].casefold()
    nicknames = {n.casefold() for n in NICKNAMES.get(person.given_name, ())}
    return {
        "no birth date": not row["date_of_birth"],
        "no given name": not given,
        "names swapped": given == person.family_name.casefold() and family != given,
        "nickname": given in nicknames,
        "given name misspelt": bool(given)
        and given not in {person.given_name.casefold(), *nicknames}
        and given != person.family_name.casefold(),
        "no postcode": not row["postcode"],
        "house number in line 2": row["address_line2"] == person.house_number,
    }


def test_with_slips_a_person_rarely_looks_the_same_in_both_files_and_without_always(
    tmp_path: Path,
) -> None:
    # Two systems with one layout, so any difference between a person's rows is a slip.
    twins = (EARLY_HELP, replace(EARLY_HELP, code="indep_other", record_prefix="OT"))

    def same_share(written: Written) -> float:
        pairs = [c for c in rows_by_person(written).values() if len(c) == 2]
        same = [_without_id(a) == _without_id(b) for a, b in (tuple(c.values()) for c in pairs)]
        return sum(same) / len(same)

    assert same_share(write_independent(tmp_path / "clean", 300, 3, Rates.none(), twins)) == 1.0
    assert same_share(write_independent(tmp_path / "slips", 300, 3, layouts=twins)) < 0.6


def _without_id(row: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in row.items() if k != "record_id"}


def test_the_files_have_two_layouts_and_no_national_identifier(big: Written) -> None:
    early, youth = (read_source(s) for s in big.sources)
    assert sum(r["address_line1"][:1].isdigit() for r in early) / len(early) > 0.8
    assert sum(", " in r["address_line1"] for r in youth) / len(youth) > 0.8
    assert all(r["given_name"] == r["given_name"].upper() for r in youth)
    for source in big.sources:
        header = source.csv.read_text(encoding="utf-8").splitlines()[0].casefold()
        assert "nhs" not in header and "upn" not in header
        mapping = read_mapping(source.mapping)
        assert mapping.code == source.code
        assert "nhs_number" not in mapping.columns and "upn" not in mapping.columns


def test_with_no_slips_every_row_reads_through_its_mapping_without_a_problem(
    tmp_path: Path,
) -> None:
    written = write_independent(tmp_path, 150, 5, Rates.none())
    for source in written.sources:
        read = list(read_mapping(source.mapping).read(source.csv))
        assert len(read) == len(read_source(source)) > 100
        assert all(r.row is not None and not r.problems for r in read)
        assert all(is_valid_postcode(r.row["postcode"]) for r in read if r.row)


def test_a_keyboard_slip_strikes_a_neighbouring_key() -> None:
    rng = random.Random(1)
    for _ in range(200):
        slipped = keyboard_slip("Hartley", rng)
        changed = [(a, b) for a, b in zip("Hartley", slipped, strict=True) if a != b]
        assert len(changed) == 1 and changed[0][1].lower() in KEYBOARD[changed[0][0].lower()]


def test_ocr_slips_go_both_ways_and_keep_the_case() -> None:
    rng = random.Random(1)
    assert {ocr_slip("Marni", rng) for _ in range(100)} == {"Mami", "Rnarni", "Marnl"}
    assert {ocr_slip("Claude", rng) for _ in range(100)} == {
        "Daude",
        "Claucle",
        "C1aude",
        "Ciaude",
    }
    assert ocr_slip("Xyz", rng) == "Xyz"


def test_febrl_postcodes_map_one_to_one_to_valid_uk_postcodes() -> None:
    mapped = [uk_postcode(f"{n:04d}") for n in range(10_000)]
    assert len(set(mapped)) == 10_000
    assert all(is_valid_postcode(p) for p in mapped)
    assert uk_postcode("2000") == uk_postcode("2000") and uk_postcode("") == ""
