"""The layout, format and determinism of the generated feeds."""

from __future__ import annotations

import argparse
import csv
import json
import pathlib

from contactpoint.registry.feeds import COLUMNS as LOADER_COLUMNS
from contactpoint.synth import cli, feeds, rates
from tests.support.synth import CHILDREN, SEED, Generated, make


def _bytes(out: pathlib.Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes_whatever_the_worker_count(
    generated: Generated, tmp_path: pathlib.Path
) -> None:
    again = make(tmp_path / "one-worker", workers=1)
    assert _bytes(again) == _bytes(generated.out)


def test_a_different_seed_gives_different_children(
    generated: Generated, tmp_path: pathlib.Path
) -> None:
    other = make(tmp_path / "other", workers=1, seed=SEED + 1)
    name = "nhs_demographics/part-00000.csv"
    assert (other / name).read_bytes() != (generated.out / name).read_bytes()


def test_every_source_file_has_exactly_the_columns_in_order(generated: Generated) -> None:
    for source in rates.SOURCES:
        for part in (generated.out / source).glob("*.csv"):
            header = part.read_text(encoding="utf-8").split("\n", 1)[0]
            assert header.split(",") == list(LOADER_COLUMNS)
            with part.open(encoding="utf-8", newline="") as f:
                assert all(len(row) == len(LOADER_COLUMNS) for row in csv.reader(f))


def test_files_end_lines_with_newline_only(generated: Generated) -> None:
    data = (generated.out / "child_benefit" / "part-00000.csv").read_bytes()
    assert b"\r" not in data
    assert data.endswith(b"\n")


def test_manifest_counts_every_row_and_lists_every_part(generated: Generated) -> None:
    manifest = json.loads((generated.out / "manifest.json").read_text())
    assert manifest["format"] == "contactpoint-synth/1"
    assert (manifest["seed"], manifest["children"], manifest["as_at"]) == (
        SEED,
        CHILDREN,
        "2025-09-01",
    )
    assert manifest["generated_at"].startswith("2025-09-01T")
    for source in rates.SOURCES:
        files = manifest["sources"][source]["files"]
        assert all((generated.out / f).exists() for f in files)
        assert manifest["sources"][source]["rows"] == len(generated.rows(source))
    with (generated.out / "organisations.csv").open(encoding="utf-8", newline="") as f:
        orgs = list(csv.DictReader(f))
    assert manifest["organisations"] == len(orgs)


def test_ground_truth_names_every_record_exactly_once(generated: Generated) -> None:
    truth = generated.truth()
    records = {(s, r["record_id"]) for s in rates.SOURCES for r in generated.rows(s)}
    assert records == set(truth)


def test_record_ids_are_unique_per_source_and_not_an_nhs_number(generated: Generated) -> None:
    for source in rates.SOURCES:
        rows = generated.rows(source)
        ids = [r["record_id"] for r in rows]
        assert len(set(ids)) == len(ids)
        assert all(
            r["record_id"].split("-", 1)[1] not in r["nhs_number"] or not r["nhs_number"]
            for r in rows
        )
        assert all(i.startswith(rates.RECORD_PREFIX[source] + "-") for i in ids)


def test_org_codes_refer_to_organisations_of_the_right_kind(generated: Generated) -> None:
    with (generated.out / "organisations.csv").open(encoding="utf-8", newline="") as f:
        kind = {r["code"]: r["kind"] for r in csv.DictReader(f)}
    expected = {
        "school_census": "school",
        "nhs_demographics": "gp_practice",
        "council_social_care": "council_team",
        "youth_offending": "youth_offending_team",
    }
    for source, wanted in expected.items():
        assert {kind[r["org_code"]] for r in generated.rows(source)} == {wanted}
        assert {r["org_role"] for r in generated.rows(source)} == {feeds.ORG_ROLE[source]}
    assert {r["org_code"] for r in generated.rows("child_benefit")} == {""}


def _args(out: pathlib.Path) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(["--children", "300", "--out", str(out), "--workers", "1"])


def test_cli_refuses_a_directory_holding_other_files(tmp_path: pathlib.Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert cli.run(_args(tmp_path)) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_cli_replaces_its_own_previous_output(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "out"
    assert cli.run(_args(out)) == 0
    (out / "school_census" / "part-00099.csv").write_text("stale")
    assert cli.run(_args(out)) == 0
    assert not (out / "school_census" / "part-00099.csv").exists()
    assert json.loads((out / "manifest.json").read_text())["children"] == 300
