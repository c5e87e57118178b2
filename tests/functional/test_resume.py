"""A load killed at any point and run again ends exactly where one clean run ends."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Sum

from contactpoint.backup.archive import backed_up_models
from contactpoint.ingest.models import LoadedFile, QuarantinedRow
from contactpoint.keystore.models import DataKey
from contactpoint.registry.golden import golden_record
from contactpoint.registry.involvement_facts import with_links
from contactpoint.registry.models import BlindIndexEntry, Child, Involvement, SourceRecord
from tests.children import roles_of
from tests.conftest import cli_env, run_cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "keys"], transaction=True),
]
BATCH = "10"


def fingerprint() -> dict[str, Any]:
    """The whole registry, described without random ids, cpids or timestamps."""
    refs: dict[Any, frozenset[tuple[str, str]]] = {}
    for child_id, source, ref in SourceRecord.objects.filter(child__isnull=False).values_list(
        "child_id", "source__code", "record_ref"
    ):
        refs[child_id] = refs.get(child_id, frozenset()) | {(source, bytes(ref).hex())}
    children = {
        (refs[c.id], c.shielded, c.status, golden_record(c.id)) for c in Child.objects.all()
    }
    rows = with_links(Involvement.objects.order_by("pk"))
    return {
        "children": children,
        "pending": set(
            SourceRecord.objects.filter(child__isnull=True).values_list(
                "source__code", "record_ref", "digest"
            )
        ),
        "involvements": {
            (refs[i.child_id], i.organisation.code, role, i.last_confirmed, i.end_date)
            for i, role in zip(rows, roles_of(rows), strict=True)
        },
        "index": {
            (refs[child], index, value)
            for child, index, value in BlindIndexEntry.objects.values_list(
                "child_id", "index", "value"
            )
        },
        "quarantine": set(
            QuarantinedRow.objects.values_list(
                "loaded_file__sha256", "line", "field", "severity", "reason"
            )
        ),
        "files": set(
            LoadedFile.objects.values_list(
                "sha256", "lines_done", "rows_loaded", "rows_unchanged", "rows_quarantined"
            )
        ),
        # Data keys are keyed by ids derived from the records: no orphan keys, no missing ones.
        "data_keys": set(DataKey.objects.values_list("owner_id", flat=True)),
    }


def empty_everything() -> None:
    for model in reversed(backed_up_models()):
        model._default_manager.all().delete()
    DataKey.objects.all().delete()


def lines_done() -> int:
    return int(LoadedFile.objects.aggregate(n=Sum("lines_done"))["n"] or 0)


def load_and_kill_after(population: Path, lines: int) -> None:
    """Start a load and SIGKILL it once `lines` rows are committed (no clean shutdown)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contactpoint",
            "load",
            str(population),
            "--batch-size",
            BATCH,
            "--quiet",
        ],
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while lines_done() < lines and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the load finished before it could be killed"


def test_a_killed_load_run_again_ends_in_the_state_of_one_clean_run(population: Path) -> None:
    run_cli("load", str(population), "--batch-size", BATCH, "--quiet")
    clean = fingerprint()
    total = lines_done()
    assert len(clean["children"]) > 500 and clean["quarantine"]
    empty_everything()

    load_and_kill_after(population, total // 5)
    partial = lines_done()
    assert 0 < partial < total
    load_and_kill_after(population, (total * 3) // 5)
    assert partial < lines_done() < total
    run_cli("load", str(population), "--batch-size", BATCH, "--quiet")

    assert fingerprint() == clean


def test_loading_the_population_twice_changes_nothing(population: Path) -> None:
    run_cli("load", str(population), "--quiet")
    first = fingerprint()
    again = run_cli("load", str(population), "--quiet")
    assert "0 rows loaded" in again.stdout and "already loaded" in again.stdout
    assert fingerprint() == first
