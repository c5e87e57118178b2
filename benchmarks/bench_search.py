"""Benchmark search: server-side latency, throughput and recall of `search.service.search`.

Builds a registry of N children with `contactpoint load --bulk` from a synthetic population
(or reuses a data directory with --data), on SQLite or, with --database-url, on PostgreSQL
(that database and the one named like it plus `_keys` for the key store are dropped and
made again; their names must start with `bench_` or end with `_bench`). Queries come from
the population's truth (benchmarks/search_queries.py): each has exactly one typo in a name
and, where the day is 12 or less, the day and month swapped.

Prints, with the machine and commit:
- latency: `service.search` (quota counters, the search, its audit events, the Finding
  rows) timed per query, one at a time, p50/p95/p99 in ms;
- throughput: --workers processes each searching in a loop for --seconds, searches a
  second overall (and with one process, for the ratio);
- recall: the share of queries whose right child is among the candidates, by kind of
  query, with the candidates a query gets and how often the answer was "too weak"; every
  miss is classed (blocking miss, too weak, too many, outranked).
Every search is audited (one event per child shown), as in the product; the latency is
also taken with the audit write disabled in this process, for the overhead.

With --occupancy M every blind index is narrowed by round(log2(M / N)) bits, for the load
and the searches alike (as bench_realtime), so buckets are as full as at M children.

Usage: .venv/bin/python benchmarks/bench_search.py [--children N] [--occupancy M]
       [--database-url postgres://postgres@127.0.0.1:5432/bench_search]
       [--keep DIR | --data DIR --feeds DIR] [--queries Q] [--seconds S] [--json PATH]
       (--keep builds into DIR/var and DIR/feeds and leaves them; --data reuses a registry:
       give the --children, --occupancy and --database-url it was built with)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import statistics
import sys
import tempfile
from typing import Any

from measure import (
    build_registry,
    check_narrowed,
    commit,
    fresh_postgres,
    machine,
    narrow_indexes,
    percentile,
    registry_env,
    setup_django,
)
from search_load import recall_figures, throughput, timed_searches
from search_queries import KINDS, queries

QUOTA = str(10**9)  # searches an hour, a day and an organisation's day: counted, never reached


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--occupancy", type=int, help="buckets as full as at this many children")
    parser.add_argument("--database-url", help="PostgreSQL, e.g. postgres://...:5432/bench_x")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=50, help="searches before timing")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30.0, help="of each throughput run")
    parser.add_argument("--keep", type=pathlib.Path, help="build into DIR/var, DIR/feeds")
    parser.add_argument("--data", type=pathlib.Path, help="reuse this data directory")
    parser.add_argument("--feeds", type=pathlib.Path, help="with --data: its population")
    parser.add_argument("--json", type=pathlib.Path, help="also write the figures here")
    parser.add_argument(
        "--no-analyze", action="store_true", help="PostgreSQL: measure without ANALYZE first"
    )
    args = parser.parse_args()
    args.less = round(math.log2(args.occupancy / args.children)) if args.occupancy else 0
    if args.less < 0:
        parser.error("--occupancy must be at least --children")
    if bool(args.data) != bool(args.feeds) or (args.keep and args.data):
        parser.error("give --data with --feeds (reuse), or --keep (build), not both")
    return args


def main() -> int:
    args = arguments()
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        root = args.keep or pathlib.Path(tmp)
        data, feeds = args.data or root / "var", args.feeds or root / "feeds"
        env = registry_env(data, args.less, args.database_url)
        built = None
        if not args.data:
            if args.database_url:
                fresh_postgres(args.database_url)
            built = build_registry(env, args.children, args.seed, feeds)
        figures = measure(args, data, feeds, env)
    figures["registry"]["source"] = (
        f"bulk load {built:,.0f} s" if built is not None else f"from {data}"
    )
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def measure(
    args: argparse.Namespace, data: pathlib.Path, feeds: pathlib.Path, env: dict[str, str]
) -> dict[str, Any]:
    """Set Django up on the registry and take every figure."""
    # Read before the product's modules are imported: on a shared checkout the tree can move.
    at = {"machine": machine(), "commit": commit()}
    # This process opens the registry the commands built, whatever the caller's environment.
    for name in ("DATABASE_URL", "CONTACTPOINT_KEYSTORE_URL", "CONTACTPOINT_DATA_DIR"):
        if name in env:
            os.environ[name] = env[name]
        else:
            os.environ.pop(name, None)
    os.environ["CONTACTPOINT_SEARCHES_PER_HOUR"] = QUOTA
    os.environ["CONTACTPOINT_SEARCHES_PER_DAY"] = QUOTA
    os.environ["CONTACTPOINT_SEARCHES_PER_ORGANISATION"] = QUOTA
    setup_django(data)
    narrow_indexes(args.less)
    check_narrowed(args.less)
    from django.db import connection

    from contactpoint.registry.models import Child

    analyzed = analyze() if connection.vendor == "postgresql" and not args.no_analyze else None
    made, missing = queries(feeds, args.queries + args.warmup, args.seed)
    warm, timed = made[: args.warmup], made[args.warmup :]
    children = Child.objects.filter(status=Child.Status.ACTIVE).count()
    latency = timed_searches(warm, timed)
    one = throughput(timed, 1, args.seconds)
    many = throughput(timed, args.workers, args.seconds)
    return {
        **at,
        "database": describe_database(analyzed),
        "registry": {"children": children, "less_bits": args.less},
        "queries": len(timed),
        "not_on_index": missing,
        "latency": latency,
        "throughput": {"1": one, str(args.workers): many},
        "recall": recall_figures(timed, latency.pop("outcomes")),
    }


def describe_database(analyzed: float | None) -> str:
    from django.db import connection

    if connection.vendor != "postgresql":
        return "SQLite (WAL)"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), current_setting('autovacuum')")
        version, autovacuum = cursor.fetchone()
    done = (
        f"ANALYZE run before measuring ({analyzed:.1f} s)" if analyzed is not None else "no ANALYZE"
    )
    return f"PostgreSQL {version.split()[0]}, autovacuum {autovacuum}, {done}"


def analyze() -> float:
    """ANALYZE both databases, as autovacuum would soon after a load (this server may have
    it off); return the seconds it took. Without statistics the planner may scan whole
    tables for a search's queries."""
    import time

    from django.db import connections

    started = time.monotonic()
    for alias in ("default", "keys"):
        with connections[alias].cursor() as cursor:
            cursor.execute("ANALYZE")
    return time.monotonic() - started


def report(f: dict[str, Any]) -> None:
    reg = f["registry"]
    print(f"machine:          {f['machine']}")
    print(f"commit:           {f['commit']}")
    print(f"database:         {f['database']}")
    print(f"registry:         {reg['children']:,} active children, {reg['source']}")
    if reg["less_bits"]:
        scale = reg["children"] * 2 ** reg["less_bits"]
        print(
            f"buckets:          every index {reg['less_bits']} bits narrower: as full as at "
            f"{scale:,} children"
        )
    print(
        f"queries:          {f['queries']:,}, one typo each, day/month swapped where the day "
        f"is 12 or less; {len(KINDS)} kinds in turn ({f['not_on_index']} drawn children "
        "not on the index skipped)"
    )
    lat = f["latency"]
    print(
        f"service.search:   p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms, "
        f"p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms (one at a time, audited; "
        f"load average before {lat['load_before']:.1f})"
    )
    find = lat["find"]
    print(
        f"  of which find:  p50 {find['p50']:.1f} ms, p95 {find['p95']:.1f} ms, "
        f"p99 {find['p99']:.1f} ms (the same queries, timed in turn with search)"
    )
    off = lat["unaudited"]
    print(
        f"  without audit:  p50 {off['p50']:.1f} ms, p95 {off['p95']:.1f} ms, "
        f"p99 {off['p99']:.1f} ms (the same searches, audit write disabled here only); "
        f"audited p95 / unaudited p95 = {lat['p95'] / off['p95']:.3f}"
    )
    for workers, t in f["throughput"].items():
        print(
            f"throughput:       {t['per_second']:,.1f} searches/s with {workers} process(es) "
            f"over {t['seconds']:.0f} s; p50 {t['p50']:.1f} ms, p95 {t['p95']:.1f} ms; "
            f"load average before {t['load_before']:.1f}"
        )
    rec = f["recall"]
    print("recall:           right child among the candidates | candidates a query | too weak")
    for group, g in rec["groups"].items():
        print(
            f"  {group + ':':<46} {g['recall']:.4f} ({g['found']:>4}/{g['queries']:<4}) "
            f"| {g['candidates_mean']:.2f} | {g['too_weak']:.1%}"
        )
    print(
        f"blocked children: median {statistics.median(rec['blocked']):.0f}, "
        f"p99 {percentile(rec['blocked'], 0.99):.0f}, max {max(rec['blocked'])} a query"
    )
    print(
        f"right child split: {rec['right_split']} queries' child is more than one registry "
        "child (the load did not link all its records)"
    )
    print("misses:")
    for kind, classes in rec["misses"].items():
        for why, count in sorted(classes.items(), key=lambda kv: -kv[1]):
            print(f"  {kind}: {why}: {count}")
    print(f"evidence of the right child, when found: {rec['evidence_found']}")


if __name__ == "__main__":
    sys.exit(main())
