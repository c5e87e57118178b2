"""Benchmark bulk linkage: standardise a synthetic population's feed records, then let
Splink (DuckDB, in memory) score the blocked pairs and cluster them into children.

Prints each stage's time, records per minute, the pairs scored per record, peak memory
of this process, and pairwise precision and recall against the synthetic ground truth.

Usage: .venv/bin/python benchmarks/bench_linkage.py [--records N | --children N]
       [--feeds DIR]  (reuse a folder written by `contactpoint synth`)
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile
import threading
import time

from measure import SAMPLE_SECONDS, commit, machine, setup_django, synth, tree_rss

RECORDS_PER_CHILD = 2.55  # what the generator writes on average (docs/synthetic-population.md)


class Peak(threading.Thread):
    """Samples this process's RSS until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, tree_rss(os.getpid()))
            time.sleep(SAMPLE_SECONDS)


def say(line: str) -> None:
    """Each stage as it ends, on stderr: a national run takes most of an hour."""
    print(f"{time.strftime('%H:%M:%S')} {line}", file=sys.stderr, flush=True)


def run(feeds: pathlib.Path) -> None:
    from contactpoint.linkage import bulk, store
    from contactpoint.linkage.evaluate import pair_counts_of, truth_rows
    from contactpoint.linkage.inputs import feed_table

    peak = Peak()
    peak.start()
    started = time.perf_counter()
    records = [feed_table(feeds, workers=os.cpu_count() or 1)]
    standardise = time.perf_counter() - started
    n = records[0].num_rows
    say(f"standardise: {n:,} records in {standardise:,.1f} s")
    model = store.bootstrap_model()
    started = time.perf_counter()
    # Handed over, not kept: link copies the table into DuckDB and lets it go.
    result = bulk.link(records.pop(), model, store.DEFAULT_UPPER, store.DEFAULT_LOWER, say)
    linkage = time.perf_counter() - started
    peak.running = False
    clusters = result.clusters
    counts = pair_counts_of(
        (clusters[key], child)
        for source, record, child in truth_rows(feeds / "truth")
        if (key := f"{source}:{record}") in clusters
    )
    print(f"machine:            {machine()}")
    print(f"commit:             {commit()}")
    children = len({c for _, _, c in truth_rows(feeds / "truth")})
    print(f"records:            {n:,} source records, {children:,} children")
    print(f"standardise:        {standardise:,.1f} s ({n / standardise * 60:,.0f} records/min)")
    print(
        f"link (Splink):      {linkage:,.1f} s ({n / linkage * 60:,.0f} records/min); "
        + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    )
    total = standardise + linkage
    print(f"total:              {total:,.1f} s ({n / total * 60:,.0f} records/min)")
    print(f"pairs scored:       {result.comparisons:,} above the review weight")
    print(f"clusters:           {result.cluster_count:,}; {len(result.review):,} pairs for review")
    print(f"peak RSS:           {peak.peak / 1024**2:,.0f} MiB")
    print(f"precision / recall: {counts.precision:.4f} / {counts.recall:.4f} (pairwise)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--children", type=int, help="instead of --records")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--feeds", type=pathlib.Path, help="an existing synth folder")
    args = parser.parse_args()
    children = args.children or round(args.records / RECORDS_PER_CHILD)
    with tempfile.TemporaryDirectory(prefix="bench-linkage-") as tmp:
        feeds = args.feeds or pathlib.Path(tmp) / "feeds"
        if not args.feeds:
            synth({**os.environ, "CONTACTPOINT_ENV": "development"}, children, args.seed, feeds)
        setup_django(pathlib.Path(tmp) / "var")
        run(feeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
