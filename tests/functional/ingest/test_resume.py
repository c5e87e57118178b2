"""A load killed at any point and run again ends exactly where one clean run ends."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db.models import Sum

from contactpoint.ingest.models import LoadedFile
from tests.support.cli import cli_env, run_cli
from tests.support.registry import empty_registry_and_keys, fingerprint

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "keys"], transaction=True),
]
BATCH = "10"


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
    empty_registry_and_keys()

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
