"""`contactpoint load --bulk`: a first load clustered at once, as good as the row loader."""

from __future__ import annotations

import dataclasses
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from contactpoint.ingest.bulk import read as bulkread
from contactpoint.ingest.bulk.load import BulkRefused, bulk_load_folder
from contactpoint.ingest.loader import load_folder
from contactpoint.ingest.models import LoadedFile, QuarantinedRow
from contactpoint.keystore.models import DataKey
from contactpoint.linkage.evaluate import PairCounts, evaluate, read_truth, registry_states
from contactpoint.linkage.models import LinkDecision, ReviewItem
from contactpoint.linkage.review_items import about
from contactpoint.registry import golden
from contactpoint.registry.feeds import source_files
from contactpoint.registry.golden import golden_record
from contactpoint.registry.models import BlindIndexEntry, Child, SourceRecord
from tests.support.cli import cli_env, run_cli
from tests.support.feeds import feed_row, write_feed
from tests.support.registry import empty_everything, fingerprint, source_codes

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "keys"], transaction=True),
]


@pytest.fixture(scope="module")
def small_population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 synthetic children and their feeds, with two rows that must be quarantined."""
    from contactpoint.synth import generate

    out = tmp_path_factory.mktemp("bulk") / "feeds"
    generate(children=300, seed=20261126, out=out, workers=1)
    part = next((out / "child_benefit").glob("*.csv"))
    with part.open("a", encoding="utf-8") as handle:
        # No family name (rejected); its impossible date of birth alone would be a field note.
        handle.write("CB-BAD-1,2025-05-15,Zed,,,,2013-02-30" + "," * 23 + "\n")
        handle.write("CB-BAD-2,2025-05-15\n")
    return out


def quality(population: Path) -> PairCounts:
    truth = read_truth(population / "truth")
    return evaluate(truth, registry_states(truth.keys())).overall.counts


def goldens_by_records() -> dict[frozenset[tuple[str, str]], dict[str, Any]]:
    """Each child's golden record, keyed by its source records, without ids or confidence
    (a bulk link keeps no pair weight, so its confidence is a floor, not the row loader's)."""
    refs: dict[Any, set[tuple[str, str]]] = {}
    codes = source_codes()
    for pk, child, ref in SourceRecord.objects.filter(child__isnull=False).values_list(
        "id", "child_id", "record_ref"
    ):
        refs.setdefault(child, set()).add((codes[pk], bytes(ref).hex()))
    found = {}
    for child, records in refs.items():
        golden = dataclasses.asdict(golden_record(child))  # type: ignore[arg-type]
        del golden["child_id"]
        found[frozenset(records)] = _without_confidence(golden)
    return found


def _without_confidence(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_confidence(v) for k, v in value.items() if k != "confidence"}
    if isinstance(value, list | tuple):
        return [_without_confidence(v) for v in value]
    return value


def test_a_bulk_load_links_children_as_well_as_the_row_loader(small_population: Path) -> None:
    load_folder(small_population)
    rows = quality(small_population)
    empty_everything()

    report = bulk_load_folder(small_population)
    bulk = quality(small_population)

    assert report.files_loaded == len(source_files(small_population))
    assert bulk.precision >= 0.999 and bulk.recall >= 0.98
    assert bulk.precision >= rows.precision - 0.001 and bulk.recall >= rows.recall - 0.01
    assert report.result.children_created == Child.objects.count() > 250


def test_golden_records_match_the_row_loaders_for_the_same_children(
    small_population: Path,
) -> None:
    load_folder(small_population)
    rows = goldens_by_records()
    empty_everything()
    bulk_load_folder(small_population)
    bulk = goldens_by_records()

    same = rows.keys() & bulk.keys()
    assert len(same) >= 0.95 * len(rows)
    assert {k: bulk[k] for k in same} == {k: rows[k] for k in same}


def test_the_golden_records_written_from_memory_are_those_refresh_chooses(
    small_population: Path,
) -> None:
    """The bulk writer picks survivors and blind index entries from the values in memory
    (golden.choose_new); rebuilding them from the database must change nothing."""

    def chosen() -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
        preferred = set(SourceRecord.objects.values_list("pk", "preferred"))
        entries = set(BlindIndexEntry.objects.values_list("child_id", "index", "value"))
        return preferred, entries

    bulk_load_folder(small_population)
    written = chosen()
    golden.refresh(Child.objects.values_list("id", flat=True))

    assert chosen() == written
    # Every child has a record supplying its date of birth, name and more.
    bits = [b for _, b in written[0] if b]
    assert sum(b.bit_count() for b in bits) >= 3 * Child.objects.count()
    assert len(written[1]) > 0


def test_bad_rows_are_quarantined_as_the_row_loader_quarantines_them(
    small_population: Path,
) -> None:
    def quarantine() -> set[tuple[Any, ...]]:
        return set(
            QuarantinedRow.objects.values_list(
                "loaded_file__sha256", "line", "field", "severity", "reason"
            )
        )

    load_folder(small_population)
    by_rows = quarantine()
    empty_everything()
    report = bulk_load_folder(small_population)

    assert quarantine() == by_rows and len(by_rows) >= 2
    assert report.result.rejected == QuarantinedRow.objects.filter(severity="rejected").count()
    assert not LoadedFile.objects.filter(completed_at__isnull=True).exists()


def test_a_registry_with_children_is_refused_and_left_unchanged(
    feeds: Path, tmp_path: Path
) -> None:
    write_feed(feeds, "nhs_demographics", [feed_row(**_child("N1", "4010232137"))])
    load_folder(feeds)
    other = tmp_path / "other"
    write_feed(other, "nhs_demographics", [feed_row(**_child("N2", "9434765919"))])
    before = fingerprint()

    with pytest.raises(BulkRefused, match="already holds 1 children"):
        bulk_load_folder(other)
    cli = run_cli("load", "--bulk", str(other), check=False)

    assert cli.returncode == 2 and "only for a first load" in cli.stderr
    assert fingerprint() == before


def test_running_the_same_bulk_load_twice_changes_nothing(small_population: Path) -> None:
    bulk_load_folder(small_population)
    first = fingerprint()

    again = bulk_load_folder(small_population)
    rows = load_folder(small_population)

    assert again.files_loaded == 0 and again.files_already_loaded > 0
    assert rows.result.loaded == 0 and rows.files_already_loaded == again.files_already_loaded
    assert fingerprint() == first


# The command line, with many batches of rows (as at scale) on a small population. In a
# process of its own: a test process runs pytest-xdist's thread beside the test, so a load
# in it checks rows itself rather than fork readers (contactpoint.lib.processes).
SMALL_BATCHES = """\
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactpoint.settings")
django.setup()
from contactpoint.ingest.bulk import read as bulkread
bulkread.BATCH = 37
from contactpoint.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_rows_read_and_chunks_written_by_two_processes_make_the_same_registry_as_one(
    small_population: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulkread, "BATCH", 37)
    bulk_load_folder(small_population, chunk_size=7, workers=1)
    alone, decisions = fingerprint(), _counts()
    empty_everything()

    command = ["load", "--bulk", "--chunk-size", "7", "--workers", "2", str(small_population)]
    result = subprocess.run(
        [sys.executable, "-c", SMALL_BATCHES, *command],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = (result.stdout + result.stderr).splitlines()

    assert "bulk: checking rows in 2 processes at once" in lines
    assert "bulk: writing chunks in 2 processes at once" in lines
    chunks = re.search(
        r"clusters in ([0-9,]+) chunk\(s\), 0 of them written by an earlier", result.stdout
    )
    assert chunks and int(chunks[1].replace(",", "")) > 2 * 2  # more than the workers hold at once
    assert fingerprint() == alone and _counts() == decisions
    if connection.vendor == "sqlite":  # the write-ahead log was emptied after the chunks
        wal = Path(f"{connection.settings_dict['NAME']}-wal")
        assert wal.stat().st_size < 64 * 1024  # what marking the files loaded wrote


def test_a_bulk_load_killed_after_a_chunk_and_run_again_ends_as_one_clean_run(
    small_population: Path,
) -> None:
    run_cli("load", "--bulk", "--chunk-size", "5", "--quiet", str(small_population))
    clean, decisions = fingerprint(), _counts()
    total = SourceRecord.objects.count()
    empty_everything()

    _bulk_load_and_kill_after_a_chunk(small_population)
    partial = SourceRecord.objects.count()
    assert 0 < partial < total
    done = run_cli("load", "--bulk", "--chunk-size", "5", "--quiet", str(small_population))

    assert "written by an earlier run" in done.stdout
    assert fingerprint() == clean and _counts() == decisions


def test_a_row_load_on_top_finds_the_bulk_loaded_children(feeds: Path, tmp_path: Path) -> None:
    write_feed(feeds, "nhs_demographics", [feed_row(**_child("N1", "4010232137"))])
    write_feed(feeds, "school_census", [feed_row(**_child("S1", "", upn="B801200005001"))])
    bulk_load_folder(feeds)
    assert Child.objects.count() == 1
    delta = tmp_path / "delta"
    later = _child("S2", "", upn="B801200005001", as_at="2026-12-01", given_name="Olga")
    write_feed(delta, "school_census", [feed_row(**later)])

    report = load_folder(delta)

    assert report.result.children_created == 0 and Child.objects.count() == 1
    methods = SourceRecord.objects.filter(child=Child.objects.get()).values_list("method")
    assert sorted(m for (m,) in methods) == ["model", "model", "new_child"]


def test_a_sensitive_record_makes_a_shielded_child(feeds: Path) -> None:
    write_feed(feeds, "nhs_demographics", [feed_row(**_child("N1", "4010232137"))])
    hidden = _child("C1", "4010232137", sensitive="Y", given_name="")
    write_feed(feeds, "council_social_care", [feed_row(**hidden)])

    bulk_load_folder(feeds)

    assert [c.shielded for c in Child.objects.all()] == [True]


def test_a_record_near_a_shielded_child_is_held_however_low_it_scores(feeds: Path) -> None:
    """The row loader's loose net (children.near_shielded) in a bulk load: a record born
    on the day the shielded child was, with day and month swapped, and sharing its family
    name but nothing else, scores far below the review weight and still founds no visible
    child; a record with other names born that day founds one."""
    hidden = _child("C1", "4010232137", sensitive="Y", date_of_birth="2016-05-07")
    write_feed(feeds, "council_social_care", [feed_row(**hidden)])
    near = _child("N1", "", given_name="Zuzanna", date_of_birth="2016-07-05", sex="M")
    near["postcode"] = "LS1 4AP"
    apart = {**near, "record_id": "N2", "given_name": "Maja", "family_name": "Quayle"}
    apart["postcode"] = "M1 1AE"
    write_feed(feeds, "nhs_demographics", [feed_row(**near), feed_row(**apart)])

    bulk_load_folder(feeds)

    assert sorted(c.shielded for c in Child.objects.all()) == [False, True]
    held = SourceRecord.objects.get(child__isnull=True)
    assert held.method == "review" and held.status == "pending"  # why: only in its item
    item = ReviewItem.objects.get(source_record=held)
    assert about(item).reason == "shielded"
    assert [Child.objects.get(pk=c.child_id).shielded for c in about(item).candidates] == [True]


def _child(record_id: str, nhs_number: str, **values: str) -> dict[str, str]:
    return {
        "record_id": record_id,
        "as_at": "2026-11-01",
        "given_name": "Ola",
        "family_name": "Nowak",
        "date_of_birth": "2016-05-05",
        "sex": "F",
        "postcode": "NW1 1AA",
        "nhs_number": nhs_number,
        **values,
    }


def _counts() -> tuple[int, int, int]:
    return (
        LinkDecision.objects.count(),
        ReviewItem.objects.count(),
        DataKey.objects.count(),
    )


def _bulk_load_and_kill_after_a_chunk(population: Path) -> None:
    """Start a bulk load and SIGKILL it once its first chunk has committed."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contactpoint",
            "load",
            "--bulk",
            "--chunk-size",
            "5",
            "--quiet",
            str(population),
        ],
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while (
        not SourceRecord.objects.exists() and process.poll() is None and time.monotonic() < deadline
    ):
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the load finished before it could be killed"
