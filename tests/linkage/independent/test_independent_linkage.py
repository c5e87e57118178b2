"""Linkage floors on data the registry was not built for: the independent corruptor's files.

Two local systems' exports of the same 300 children (contactpoint.corrupt), each with its
own layout and slips and no NHS number or UPN, loaded through `load --source --mapping`
and scored with `linkage evaluate`. benchmarks/linkage_independent.py runs the same at
5,000 children beside Splink and recordlinkage (docs/linkage-evaluation.md).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from contactpoint.corrupt.export import AS_AT, Written, write_independent
from tests.support.cli import run_cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "keys"], transaction=True),
]

PEOPLE = 300
SEED = 20261207


def true_pairs(written: Written) -> int:
    """Every true pair in the files, loaded or not: a row quarantined is a pair missed."""
    people: Counter[str] = Counter()
    with written.truth.open(encoding="utf-8") as handle:
        for line in handle.read().splitlines()[1:]:
            people[line.rsplit(",", 1)[1]] += 1
    return sum(n * (n - 1) // 2 for n in people.values())


def load_and_evaluate(written: Written) -> dict[str, Any]:
    for source in written.sources:
        run_cli("load", "--source", source.code, "--mapping", str(source.mapping), str(source.csv))
    truth = str(written.truth)
    feeds = str(written.truth.parent)
    out = run_cli(
        "linkage", "evaluate", "--truth", truth, "--feeds", feeds, "--as-at", str(AS_AT), "--json"
    ).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def test_the_registry_links_independent_data_without_a_wrong_link(tmp_path: Path) -> None:
    written = write_independent(tmp_path / "files", PEOPLE, SEED)
    result = load_and_evaluate(written)
    pairs = result["pairs"]
    everything = true_pairs(written)
    end_to_end = pairs["true_positive"] / everything
    with_review = pairs["found_counting_review"] / everything
    figures = (
        f"precision {result['precision']:.4f}, recall of loaded {result['recall']:.4f}, "
        f"recall of all {end_to_end:.4f}, counting review {with_review:.4f}, "
        f"waiting {result['review_share']:.2%}, not loaded {result['records_not_in_registry']}"
    )
    assert set(result["by_source"]) == {s.code for s in written.sources}, figures
    # No wrong link, on any data: the target, not a floor to raise.
    assert result["precision"] >= 0.999, figures
    # Recall is of every true pair in the files, so a row quarantined whole costs recall.
    # floor: the registry measures 0.7298 here (0.6855 before the waiting thin records were
    # matched again after each load; 0.6573 before candidates reached a slip in each name;
    # 0.5726 before rows without a date of birth or given name loaded); raise as linkage
    # improves
    assert end_to_end >= 0.71, figures
    # floor: the registry measures 0.9234 here (0.8548 before matching again; 0.7419 and
    # 0.6411 before that)
    assert with_review >= 0.90, figures
    assert with_review >= end_to_end, figures
    # ceiling: 12.23% of the records wait here (14.23% before matching again; 11.13% before
    # that): most are too thin to match safely (no date of birth or given name), and a
    # record without a given name waits where the population holds twins instead of being
    # linked, as a twin's was, to the co-twin. The bound is 5%, not met: lower this
    # as linkage improves
    assert result["review_share"] <= 0.13, figures
