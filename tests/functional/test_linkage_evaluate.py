"""`contactpoint linkage evaluate` on a loaded synthetic population, with floors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "keys"], transaction=True),
]


def test_the_deterministic_links_are_precise_and_mostly_complete(population: Path) -> None:
    run_cli("load", str(population), "--quiet")
    out = run_cli("linkage", "evaluate", "--truth", str(population / "truth"), "--json").stdout
    result = json.loads(out)
    # Floors for today's deterministic rules; issue 3's linker must raise recall.
    assert result["precision"] >= 0.999
    assert result["recall"] >= 0.85
    assert result["waiting_share"] <= 0.05
    # 600 children may include no one known to youth offending services.
    assert {"nhs_demographics", "school_census", "child_benefit"} <= set(result["by_source"])


def test_a_missing_truth_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("linkage", "evaluate", "--truth", str(tmp_path / "nope.csv"), check=False)
    assert result.returncode == 2 and "does not exist" in result.stderr
