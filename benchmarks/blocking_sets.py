"""Bulk blocking and linkage on data we did not design for, under two sets of blocking rules.

FEBRL4 and the independent corruptor's people (as `linkage_independent.py` writes them:
two local systems' CSV exports), every row standardised as the bulk linkage standardises a
feed record, then for the rules of contactpoint/linkage/blocking.py at a git revision
(`--before`) and the working tree's: the blocked pairs, the true pairs blocking reaches
(blocking recall), and `bulk.link`'s pairwise precision and recall against the truth. The
registry half of `linkage_independent.py` loads through real-time matching (blind indexes),
which the bulk rules do not touch, so this is where the bulk rules meet those sets.

Usage: .venv/bin/python benchmarks/blocking_sets.py [--dataset febrl4|independent|all]
       [--before REV] [--size N] [--seed N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import sys
import tempfile
from typing import Any

from blocking_compare import rules_at
from linkage_independent import write_dataset
from measure import commit, machine, setup_django

from contactpoint.corrupt.export import read_source


def records_of(
    out: pathlib.Path, name: str, size: int, seed: int
) -> tuple[list[Any], dict[str, str]]:
    """Every row of the data set's files as a standardised record, and each one's person."""
    from contactpoint.linkage.records import from_canonical

    data = write_dataset(name, out, size, seed)
    truth: dict[str, str] = {}
    with data.truth.open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            code, record_id, person = line.rstrip("\n").split(",")
            truth[f"{code}|{record_id}"] = person
    records = []
    for source in data.sources:
        for row in read_source(source):
            try:
                born = dt.datetime.strptime(row["date_of_birth"], source.layout.date_format).date()
            except ValueError:
                born = None
            doc = {**row, "date_of_birth": born.isoformat() if born else None}
            records.append(from_canonical(f"{source.code}|{row['record_id']}", doc))
    return records, truth


def run(name: str, out: pathlib.Path, before: str, size: int, seed: int) -> None:
    from contactpoint.linkage import blocking, bulk, store
    from contactpoint.linkage.evaluate import pair_counts_of

    records, truth = records_of(out, name, size, seed)
    model = store.bootstrap_model()
    for label, rules in (
        (f"before ({before})", rules_at(before)),
        ("now", blocking.BLOCKING_RULES),
    ):
        reach = bulk.blocking_recall(records, truth, rules)
        blocking.BLOCKING_RULES = rules
        result = bulk.link(records, model, store.DEFAULT_UPPER, store.DEFAULT_LOWER)
        counts = pair_counts_of(
            (cluster, truth[record]) for record, cluster in result.clusters.items()
        )
        blocked = sum(n for _, n, _ in reach.by_rule)
        print(
            f"{name} {label}: {len(records):,} records; blocked pairs {blocked:,}; blocking "
            f"recall {reach.recall:.5f} ({reach.reached:,} of {reach.true_pairs:,}); "
            f"bulk precision / recall {counts.precision:.5f} / {counts.recall:.5f}; "
            f"{len(result.review):,} review pairs",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", choices=("febrl4", "independent", "all"), default="all")
    parser.add_argument("--before", default="HEAD")
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args()
    names = ("febrl4", "independent") if args.dataset == "all" else (args.dataset,)
    print(f"machine:  {machine()}")
    print(f"commit:   {commit()}")
    with tempfile.TemporaryDirectory(prefix="blocking-sets-") as tmp:
        setup_django(pathlib.Path(tmp) / "var")
        for name in names:
            run(name, pathlib.Path(tmp) / name, args.before, args.size, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
