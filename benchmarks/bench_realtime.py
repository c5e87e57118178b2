"""Benchmark real-time matching: one incoming record against a registry of N children.

Builds the registry with `contactpoint load --bulk` from a synthetic population (or reuses
a data directory with --data), then matches records one at a time through the same
Matcher a load uses, and times, side by side on the same records, Splink's own
`predict_between` against the population's records held in DuckDB.

Prints server-side p50, p95 and p99 in milliseconds, the candidates per record, and the
machine and commit.

With --occupancy M, every blind index is truncated to fewer bits (round(log2(M / N))),
for the load and the matching alike, so that the buckets of a registry of N children hold
about as many children as they would at M children with the real sizes. That measures
the cost of a national registry's full buckets on a registry that can be built in a
session; it does not reproduce everything else about a larger registry (deeper B-trees,
more children truly sharing a birth date and name).

Usage: .venv/bin/python benchmarks/bench_realtime.py [--children N] [--queries Q]
       [--occupancy M] [--data DIR --feeds DIR]  (reuse a loaded data directory and its
       feed folder: give the --children and --occupancy it was loaded with)
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import random
import statistics
import sys
import tempfile
import time
import uuid
from typing import TYPE_CHECKING, Any

from measure import (
    build_registry,
    check_narrowed,
    commit,
    machine,
    narrow_indexes,
    percentile,
    registry_env,
    setup_django,
)

if TYPE_CHECKING:
    from contactpoint.registry.feeds import FeedRecord


def queries(feeds: pathlib.Path, count: int, seed: int) -> list[FeedRecord]:
    """Records as a delta would bring them: real rows with a typo in the given name."""
    import csv
    import datetime as dt

    from contactpoint.registry.feeds import COLUMNS, RowParser

    rows = []
    for part in sorted((feeds / "child_benefit").glob("*.csv"))[:1]:
        with part.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            for n, values in enumerate(reader):
                if n >= 20 * count:
                    break
                rows.append(dict(zip(COLUMNS, values, strict=True)))
    picked = random.Random(seed).sample(rows, count)
    parser = RowParser(dt.date.today())
    found: list[FeedRecord] = []
    for row in picked:
        name = row["given_name"]
        row["given_name"] = name[:-1] + ("a" if name[-1] != "a" else "e")
        if (record := parser.parse(row)) is not None:
            found.append(record)
    return found


def run(feeds: pathlib.Path, count: int, seed: int) -> dict[str, Any]:
    from contactpoint.linkage.realtime import Matcher
    from contactpoint.linkage.records import from_feed
    from contactpoint.registry.candidates import candidate_children, record_entries

    records = queries(feeds, count, seed)
    matcher = Matcher()
    times: list[float] = []
    candidates: list[int] = []
    actions: list[str] = []
    for record in records:
        sr_id = uuid.uuid4()
        link = from_feed(str(sr_id), record)
        started = time.perf_counter()
        match = matcher.match([(sr_id, record, link)])[0]
        times.append((time.perf_counter() - started) * 1000)
        candidates.append(len(candidate_children([record_entries(record)])[0]))
        actions.append(match.action)
    return {"times": times, "candidates": candidates, "actions": actions, "records": records}


def splink_side(feeds: pathlib.Path, records: list[FeedRecord], repeat: int) -> list[float]:
    """Splink's predict_between for one record at a time, against every feed record."""
    from splink import DuckDBAPI, Linker

    from contactpoint.linkage import store, training
    from contactpoint.linkage.inputs import feed_table
    from contactpoint.linkage.records import as_table, from_feed

    db_api = DuckDBAPI(training.connect())
    table = feed_table(feeds, workers=os.cpu_count() or 1)
    registry = db_api.register(table, dataset_display_name="registry")
    linker = Linker(registry, store.active().record.model, log_level=None)
    for column in ("given_name", "family_name"):
        linker.table_management.compute_tf_table(column)
    times = []
    for n, record in enumerate(records[:repeat]):
        one = db_api.register(
            as_table([from_feed(f"q{n}", record)]),
            dataset_display_name=f"q{n}",
        )
        started = time.perf_counter()
        linker.inference.predict_between(one, registry).as_record_list()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--splink-queries", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=pathlib.Path)
    parser.add_argument("--feeds", type=pathlib.Path)
    parser.add_argument("--occupancy", type=int, help="buckets as full as at this many children")
    args = parser.parse_args()
    less = round(math.log2(args.occupancy / args.children)) if args.occupancy else 0
    if less < 0:
        parser.error("--occupancy must be at least --children")
    with tempfile.TemporaryDirectory(prefix="bench-realtime-") as tmp:
        data = args.data or pathlib.Path(tmp) / "var"
        feeds = args.feeds or pathlib.Path(tmp) / "feeds"
        env = registry_env(data, less)
        built = None if args.data else build_registry(env, args.children, args.seed, feeds)
        setup_django(data)
        narrow_indexes(less)
        check_narrowed(less)
        from contactpoint.registry.models import Child

        children = Child.objects.count()
        result = run(feeds, args.queries, args.seed)
        ours: list[float] = result["times"]
        theirs = splink_side(feeds, result["records"], args.splink_queries)
    cands: list[int] = result["candidates"]
    print(f"machine:          {machine()}")
    print(f"commit:           {commit()}")
    source = f"bulk load {built:,.0f} s" if built else f"from {data}"
    print(f"registry:         {children:,} children (SQLite), {source}")
    if less:
        scale = children * 2**less
        print(
            f"buckets:          every index {less} bits narrower: as full as at {scale:,} children"
        )
    print(f"queries:          {len(ours):,} records, one at a time, a typo in each given name")
    p50, p95, p99 = (percentile(ours, share) for share in (0.5, 0.95, 0.99))
    print(f"in process:       p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms")
    print(f"candidates:       median {statistics.median(cands):.0f}, max {max(cands)}")
    actions: list[str] = result["actions"]
    print("decisions:        " + ", ".join(f"{a} {actions.count(a)}" for a in sorted(set(actions))))
    print(
        f"Splink predict_between: p50 {percentile(theirs, 0.5):.1f} ms over {len(theirs)} records"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
