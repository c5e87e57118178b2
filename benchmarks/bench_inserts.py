"""Benchmark the bulk paths' writing mechanism alone: rows per second `Inserter` writes,
with executemany and with COPY, into an empty PostgreSQL registry.

Makes the registry of --database-url afresh (with `<name>_keys`; the names must start with
`bench_` or end with `_bench`), then, --repeat times and interleaved, writes --children
children with what a bulk load writes for each beside its facts (the child, its
contactpoint id, --records source records with a sealed-sized payload and a linkage
decision each, and --entries blind index entries) in one transaction rolled back after,
so every write finds the same empty tables. Prints each write and the medians. The values
are prepared before the clock starts: only the flush is timed.

Usage: .venv/bin/python benchmarks/bench_inserts.py --database-url postgres://...:5432/bench_x
       [--children N] [--records R] [--entries E] [--repeat K]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pathlib
import sys
import tempfile
import time
import uuid
from typing import Any

from measure import (
    commit,
    contactpoint,
    fresh_postgres,
    interleaved,
    machine,
    registry_env,
    setup_django,
)

RECORD_COLUMNS: tuple[str, ...] = ("id", "record_ref", "child_id", "status")
RECORD_COLUMNS += ("method", "confidence", "as_at", "digest", "payload", "origin")


class Rolled(Exception):
    """Raised to roll the timed transaction back."""


def rows(children: int, records: int, entries: int) -> list[tuple[str, tuple[str, ...], list[Any]]]:
    """The rows of each table, as the bulk write gives them to `Inserter`, in order."""
    ids = [uuid.uuid4() for _ in range(children)]
    refs = [uuid.uuid4() for _ in range(children * records)]
    payload = os.urandom(212)
    origin = os.urandom(33)  # a source id sealed (registry/origins.py)
    day = dt.date(2026, 1, 2)

    def record(i: int, r: uuid.UUID) -> tuple[Any, ...]:
        child = ids[i // records]
        return (r, r.bytes * 2, child, "linked", "model", 0.99, day, r.bytes * 2, payload, origin)

    return [
        ("Child", ("id", "cpid"), [(c, f"CP-BENCH-{i}") for i, c in enumerate(ids)]),
        (
            "SourceRecord",
            RECORD_COLUMNS,
            [record(i, r) for i, r in enumerate(refs)],
        ),
        (
            "LinkDecision",
            ("action", "source_record_id", "child_id", "decided_by"),
            [("auto_link", r, ids[i // records], "contactpoint") for i, r in enumerate(refs)],
        ),
        (
            "BlindIndexEntry",
            ("child_id", "index", "value"),
            [(c, e, (hash((c, e)) & 0x7FFFF)) for c in ids for e in range(entries)],
        ),
    ]


def write(method: str, tables: list[tuple[str, tuple[str, ...], list[Any]]]) -> tuple[float, int]:
    """Seconds to write every table's rows by `method`, and how many rows."""
    from django.apps import apps
    from django.db import transaction

    from contactpoint.registry.inserts import Inserter

    inserters = []
    for name, columns, values in tables:
        model = apps.get_model("linkage" if name == "LinkDecision" else "registry", name)
        inserter = Inserter(model, columns, method=method)  # type: ignore[arg-type]
        inserter.add_many(values)
        inserters.append(inserter)
    count = sum(len(i.rows) for i in inserters)
    try:
        with transaction.atomic():
            started = time.perf_counter()
            for inserter in inserters:
                inserter.flush()
            seconds = time.perf_counter() - started
            raise Rolled
    except Rolled:
        pass
    return seconds, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--children", type=int, default=2000)
    parser.add_argument("--records", type=int, default=3)
    parser.add_argument("--entries", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-inserts-") as tmp:
        data = pathlib.Path(tmp)
        fresh_postgres(args.database_url)
        env = registry_env(data, 0, args.database_url)
        contactpoint(env, "init", "--quiet")
        for name in ("DATABASE_URL", "CONTACTPOINT_KEYSTORE_URL"):
            os.environ[name] = env[name]
        setup_django(data)
        tables = rows(args.children, args.records, args.entries)
        print(f"machine:        {machine()}")
        print(f"commit:         {commit()}")
        print("database:       PostgreSQL, empty registry, one transaction rolled back a write")
        print(
            f"a write:        {args.children:,} children, {args.records} records and "
            f"{args.entries} index entries each"
        )

        def run(method: str) -> tuple[float, str]:
            seconds, count = write(method, tables)
            return count / seconds, f"{count:,} rows in {seconds:.2f} s"

        medians = interleaved(["executemany", "copy"], args.repeat, run)
        print(f"COPY / executemany: {medians['copy'] / medians['executemany']:.1f}x")
        from django.db import connections

        connections.close_all()
        fresh_postgres(args.database_url)  # leave it empty
    return 0


if __name__ == "__main__":
    sys.exit(main())
