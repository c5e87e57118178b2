"""CPU time and statements of the queries that select by a child's id, on a kept registry.

Run on a registry `registry_size.py --keep DIR` built (its SQLite data directory, DIR/sqlite,
or a PostgreSQL one with `--database-url`): the first 600 children by contactpoint ID, each
query five times, the median of `time.process_time`. docs/benchmarks.md "Registry size".

Usage: .venv/bin/python benchmarks/id_queries.py DATA_DIR [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

from measure import REPO


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", help="the registry's data directory (keys; SQLite too)")
    parser.add_argument("--database-url", help="a PostgreSQL registry instead of SQLite")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactpoint.settings")
    os.environ["CONTACTPOINT_ENV"] = "development"
    os.environ["CONTACTPOINT_DATA_DIR"] = args.data
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
        os.environ["CONTACTPOINT_KEYSTORE_URL"] = args.database_url + "_keys"
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contactpoint.registry import candidates, golden
    from contactpoint.registry.models import BlindIndexEntry, Child, Involvement, SourceRecord

    ids = list(Child.objects.order_by("cpid").values_list("pk", flat=True)[:600])
    keys = BlindIndexEntry.objects.filter(child_id__in=ids[:300]).values_list("index", "value")
    entries = list(keys)

    def records() -> int:
        rows = SourceRecord.objects.filter(child_id__in=ids).values_list("pk", "payload")
        return len(list(rows))

    def involvements() -> int:
        rows = Involvement.objects.filter(child_id__in=ids).values_list("pk", "source_record")
        return len(list(rows))

    def blocking() -> int:
        return sum(len(found) for found in candidates.candidate_children([{e} for e in entries]))

    def golden_records() -> int:
        return sum(golden.golden_record(pk) is not None for pk in ids[:150])

    queries: list[tuple[str, Callable[[], int]]] = [
        ("source records of 600 children", records),
        ("involvements of 600 children", involvements),
        (f"blocking, {len(entries):,} keys", blocking),
        ("golden record of 150 children", golden_records),
    ]
    for name, query in queries:
        seconds = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as captured:
                started = time.process_time()
                rows = query()
                seconds.append(time.process_time() - started)
        median = statistics.median(seconds) * 1000
        print(f"{name:34} rows {rows:6,}  statements {len(captured):4}  CPU {median:7.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
