"""Bulk linkage under two sets of blocking rules, run in turn in one process on one table.

The rules of contactpoint/linkage/blocking.py at a git revision (`--before`) against the
working tree's, each `bulk.link` run alternating (before, now, before, now, ...) so that
a noisy machine weighs on both alike. Prints each run's predict time and the medians,
the blocked pairs a record, and what the clusters come to for each set of rules:
clusters, review pairs, untrusted clusters, hubs and pairwise precision and recall
against the synthetic ground truth (identical across runs of one set).

Usage: .venv/bin/python benchmarks/blocking_compare.py --feeds DIR [--before REV]
       [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import types
from typing import Any

from measure import REPO, commit, machine, setup_django


def rules_at(revision: str) -> tuple[Any, ...]:
    """BLOCKING_RULES as blocking.py defines them at a git revision."""
    source = subprocess.run(
        ["git", "show", f"{revision}:contactpoint/linkage/blocking.py"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("blocking_before")
    exec(compile(source, "blocking_before.py", "exec"), module.__dict__)  # noqa: S102
    rules: tuple[Any, ...] = module.BLOCKING_RULES
    return rules


def run(feeds: pathlib.Path, before: str, repeats: int) -> None:
    from contactpoint.linkage import blocking, bulk, store
    from contactpoint.linkage.evaluate import pair_counts_of, truth_rows
    from contactpoint.linkage.inputs import feed_table

    table = feed_table(feeds, workers=os.cpu_count() or 1)
    truth = {f"{s}:{r}": c for s, r, c in truth_rows(feeds / "truth")}
    model = store.bootstrap_model()
    sets = {f"before ({before})": rules_at(before), "now": blocking.BLOCKING_RULES}
    predict: dict[str, list[float]] = {name: [] for name in sets}
    outcome: dict[str, set[str]] = {name: set() for name in sets}
    for turn in range(repeats):
        for name, rules in sets.items():
            blocking.BLOCKING_RULES = rules
            started = time.perf_counter()
            result = bulk.link(table, model, store.DEFAULT_UPPER, store.DEFAULT_LOWER)
            wall = time.perf_counter() - started
            predict[name].append(result.seconds["predict"])
            counts = pair_counts_of(
                (cluster, truth[record]) for record, cluster in result.clusters.items()
            )
            outcome[name].add(
                f"{result.comparisons:,} pairs scored above the review weight; "
                f"{result.cluster_count:,} clusters; {len(result.review):,} review pairs; "
                f"{len(result.untrusted):,} untrusted; {len(result.hubs):,} hubs; "
                f"precision / recall {counts.precision:.5f} / {counts.recall:.5f} "
                f"({counts.true_positive:,} true pairs)"
            )
            print(
                f"run {turn + 1} {name}: predict {result.seconds['predict']:.1f} s, "
                f"link {wall:.1f} s",
                flush=True,
            )
    print(f"machine:  {machine()}")
    print(f"commit:   {commit()}")
    print(f"records:  {table.num_rows:,}")
    for name, rules in sets.items():
        blocking.BLOCKING_RULES = rules
        blocked = _blocked(table, rules)
        print(
            f"{name}: blocked pairs {blocked:,} ({blocked / table.num_rows:.3f} a record); "
            f"predict median {statistics.median(predict[name]):.2f} s "
            f"({', '.join(f'{s:.1f}' for s in predict[name])})"
        )
        for line in sorted(outcome[name]):
            print(f"    {line}")


def _blocked(table: Any, rules: tuple[Any, ...]) -> int:
    """Every pair the rules find (Splink's count, no sample)."""
    from splink import DuckDBAPI
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    from contactpoint.linkage import training

    frame = DuckDBAPI(training.connect()).register(table, dataset_display_name="records")
    counts = count_comparisons_from_blocking_rules(
        frame, blocking_rules=list(rules), link_type="dedupe_only", record_sample_proportion=1.0
    )
    return sum(int(r["marginal_comparison_count"]) for r in counts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=pathlib.Path, required=True)
    parser.add_argument("--before", default="HEAD")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="blocking-compare-") as tmp:
        setup_django(pathlib.Path(tmp) / "var")
        run(args.feeds, args.before, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
