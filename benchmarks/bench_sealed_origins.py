"""Benchmark what reading a record's sealed source (`origin`, docs/adr/0010) costs where it
is read on a hot path: the full record view (the golden record and each feed involvement's
"kept by"), choosing the golden record again (`golden.refresh`, survivorship's rank), and
a delta row load of changed records (which seals each record's origin).

Builds a synthetic registry of its own (SQLite in a temporary data directory), then
measures CPU time of this process (`time.process_time`: wall-clock is meaningless on a
shared machine) and SQL statements (both databases, registry and key store), each the
median of --repeat rounds over the same children. Runs on any commit since the record view
and `golden.refresh` exist, so a before and an after can be compared one after the other.

Usage: .venv/bin/python benchmarks/bench_sealed_origins.py [--children N] [--views V]
       [--repeat R]
"""

from __future__ import annotations

import argparse
import csv
import pathlib
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from measure import commit, machine, registry_here


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=2000)
    parser.add_argument("--views", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def measured(work: Callable[[], Any]) -> tuple[float, int]:
    """CPU seconds of this process and SQL statements (every database) to run `work`."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    contexts = [CaptureQueriesContext(connections[a]) for a in ("default", "keys")]
    for c in contexts:
        c.__enter__()
    started = time.process_time()
    try:
        work()
    finally:
        elapsed = time.process_time() - started
        for c in contexts:
            c.__exit__(None, None, None)
    return elapsed, sum(len(c.captured_queries) for c in contexts)


def schools_of(children: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """A school involved with each child (whose practitioner sees its record in full)."""
    from contactpoint.registry.involvement_facts import facts_of, with_links
    from contactpoint.registry.models import Involvement

    rows = with_links(Involvement.objects.filter(child_id__in=children, end_date__isnull=True))
    facts = facts_of(rows)
    return {i.child_id: i.organisation_id for i in rows if facts[i.pk].role == "school"}


def record_views(schools: dict[uuid.UUID, int]) -> None:
    from contactpoint.access.permissions import Principal, Role
    from contactpoint.practice.record import _record_for
    from contactpoint.registry.models import Child

    for child in Child.objects.filter(pk__in=list(schools)):
        user = Principal("user", str(uuid.uuid4()), Role.PRACTITIONER, schools[child.pk], None)
        _record_for(user, child)


def delta(feeds: pathlib.Path, out: pathlib.Path, rows: int, day: str) -> pathlib.Path:
    """A school census delta: the first `rows` records of the census, as at `day`."""
    source = sorted((feeds / "school_census").glob("*.csv"))[0]
    folder = out / day
    (folder / "school_census").mkdir(parents=True)
    shutil.copy(feeds / "organisations.csv", folder / "organisations.csv")
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        chosen = [r for _, r in zip(range(rows), reader, strict=False)]
        names = reader.fieldnames or []
    with (folder / "school_census" / "part-00000.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, names, lineterminator="\n")
        writer.writeheader()
        writer.writerows({**r, "as_at": day} for r in chosen)
    return folder


def main() -> int:
    args = arguments()
    with tempfile.TemporaryDirectory() as tmp:
        feeds, _ = registry_here(pathlib.Path(tmp), args.children, args.seed)
        from contactpoint.ingest.loader import load_folder
        from contactpoint.registry import golden
        from contactpoint.registry.models import Child

        ids = sorted(Child.objects.values_list("id", flat=True), key=str)
        chosen = random.Random(args.seed).sample(ids, min(args.views, len(ids)))
        schools = schools_of(chosen)
        results: dict[str, list[tuple[float, int]]] = {"view": [], "refresh": [], "delta": []}
        for n in range(args.repeat):
            results["view"].append(measured(lambda: record_views(schools)))
            results["refresh"].append(measured(lambda: golden.refresh(chosen)))
            folder = delta(feeds, pathlib.Path(tmp) / "deltas", 500, f"2026-11-{10 + n:02d}")
            results["delta"].append(measured(partial(load_folder, folder)))
    print(f"machine: {machine()}")
    print(f"commit: {commit()}  backend: SQLite  children: {args.children}")
    counts = {"view": len(schools), "refresh": len(chosen), "delta": 500}
    for name, rounds in results.items():
        cpu = statistics.median(r[0] for r in rounds) * 1000 / counts[name]
        statements = statistics.median(r[1] for r in rounds) / counts[name]
        print(
            f"{name}: {counts[name]} a round, median of {args.repeat}: "
            f"{cpu:.2f} ms CPU and {statements:.2f} statements each"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
