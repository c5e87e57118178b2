"""Benchmark the queries that read which children are shielded and when records were
archived: a search (which scores shielded children without their postcode), a real-time
match (which holds a record near a shielded child) and the retention run (which archives
on the date of birth and purges on the archive day).

Builds a synthetic registry of its own (SQLite in a temporary data directory, or with
--database-url on PostgreSQL: that database and the one named like it plus `_keys` are
dropped and made again; their names must start with `bench_` or end with `_bench`), shields
--shielded of its children, then times --queries searches (scoring only: no audit, quota or
finding), as many real-time matches of a delta record, and four retention runs: the first
after the load, the same again (checking every child, with nothing to change), one ten
years on (archiving) and one seventeen years on (purging). It runs on the code it sits in,
so the same script measures before and after a change.

Usage: .venv/bin/python benchmarks/bench_sealed_shielding.py [--children N] [--queries Q]
       [--database-url postgres://postgres@127.0.0.1:5432/bench_shield]
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import random
import tempfile
import time
import uuid
from typing import Any

from bench_realtime import queries as delta_records
from measure import (
    commit,
    machine,
    percentile,
    registry_here,
)
from search_queries import queries as search_queries


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--shielded", type=float, default=0.05, help="share of children")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--database-url", help="PostgreSQL, e.g. postgres://...:5432/bench_x")
    return parser.parse_args()


def shield(share: float, seed: int) -> int:
    """Shield a random share of the children, as the code in this tree records it."""
    from contactpoint.registry.models import Child

    ids = sorted(Child.objects.values_list("id", flat=True), key=str)
    chosen = random.Random(seed).sample(ids, round(share * len(ids)))
    try:
        from contactpoint.registry import shield_tags
    except ImportError:  # before ADR 0010 sealed it: a column
        Child.objects.filter(id__in=chosen).update(shielded=True)
    else:
        shield_tags.shield(chosen)
    return len(chosen)


def searches(feeds: pathlib.Path, count: int, seed: int) -> list[float]:
    """Milliseconds to reach and score the children of each search."""
    from contactpoint.search import criteria, service

    made, _ = search_queries(feeds, count, seed)
    today = dt.date.today()
    times = []
    for query in made:
        asked = criteria.check(query.form, today)
        started = time.perf_counter()
        service.scored(asked)
        times.append((time.perf_counter() - started) * 1000)
    return times


def matches(feeds: pathlib.Path, count: int, seed: int) -> list[float]:
    """Milliseconds to match each delta record against the registry (nothing written)."""
    from contactpoint.linkage.realtime import Matcher
    from contactpoint.linkage.records import from_feed

    matcher = Matcher()
    times = []
    for record in delta_records(feeds, count, seed):
        sr_id = uuid.uuid4()
        started = time.perf_counter()
        matcher.match([(sr_id, record, from_feed(str(sr_id), record))])
        times.append((time.perf_counter() - started) * 1000)
    return times


def retention_runs() -> list[tuple[str, float, Any]]:
    """Seconds and report of each retention run."""
    from contactpoint.practice import retention

    today = dt.date.today()
    runs = []
    for name, day in (
        ("after the load", today),
        ("again the same day (nothing to do)", today),
        ("10 years on (archives)", today.replace(year=today.year + 10)),
        ("17 years on (purges)", today.replace(year=today.year + 17)),
    ):
        started = time.perf_counter()
        report = retention.run(day)
        runs.append((name, time.perf_counter() - started, report))
    return runs


def main() -> int:
    args = arguments()
    at = {"machine": machine(), "commit": commit()}
    with tempfile.TemporaryDirectory() as tmp:
        feeds, load = registry_here(pathlib.Path(tmp), args.children, args.seed, args.database_url)
        shielded = shield(args.shielded, args.seed)
        searched = searches(feeds, args.queries, args.seed)
        matched = matches(feeds, args.queries, args.seed)
        runs = retention_runs()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"machine: {at['machine']}")
    print(f"commit: {at['commit']}  backend: {backend}  children: {args.children}")
    print(f"bulk load: {load:.1f} s; shielded: {shielded}")
    for name, times in (("search (scoring)", searched), ("real-time match", matched)):
        print(
            f"{name}, {len(times)}: p50 {percentile(times, 0.5):.2f} ms, "
            f"p95 {percentile(times, 0.95):.2f} ms"
        )
    for name, seconds, report in runs:
        print(
            f"retention run {name}: {seconds:.2f} s, archived {report.archived}, "
            f"purged {report.purged}, involvements removed {report.involvements_removed}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
