"""Benchmark the audit log: sustained appends a second (one process, then several, all
serialised on the log's head), the latency of one append, `verify`'s speed, and the two
questions asked per child (by its keyed tag, ADR 0012): a family's "who looked" (the
subject-access history) and the privacy officer's history of one child (a page of up to
100 events). A user's history also opens each event's sealed child (one key-store read a
page), timed apart ("user history").

Appends sign a checkpoint in their own transaction once the last is 10 s old
(CONTACTPOINT_AUDIT_CHECKPOINT_SECONDS); the times below include those. Works on a fresh
data directory of its own (SQLite), or with --database-url on PostgreSQL (that database and
the one named like it plus `_keys` are dropped and made again; their names must start with
`bench_` or end with `_bench`). Each event is a record view of a random child with two
sealed details, as `practice.record.record_for` writes it, about one of 500 children (so
the timed appends give each child events to find).

Usage: .venv/bin/python benchmarks/bench_audit.py [--events N] [--workers W] [--seconds S]
       [--database-url postgres://postgres@127.0.0.1:5432/bench_audit]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import pathlib
import statistics
import tempfile
import time
import uuid
from typing import Any

from measure import (
    commit,
    contactpoint,
    fresh_postgres,
    machine,
    percentile,
    registry_env,
    setup_django,
)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=3000, help="appended one at a time")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0, help="of each throughput run")
    parser.add_argument("--database-url", help="PostgreSQL, e.g. postgres://...:5432/bench_x")
    return parser.parse_args()


CHILDREN = [uuid.uuid4() for _ in range(500)]
ASKED = 200  # children whose history is read


def an_entry(n: int) -> Any:
    from contactpoint.audit import log

    return log.Entry(
        "child:record:view",
        "allowed",
        principal=f"user:bench-{n % 50}",
        role="practitioner",
        organisation_id=1,
        child_id=CHILDREN[n % len(CHILDREN)],
        details={"view": "full", "fields": ["given_name", "family_name", "involvements"]},
    )


def timed_appends(count: int) -> list[float]:
    from contactpoint.audit import log

    times = []
    for n in range(count):
        started = time.perf_counter()
        log.append(an_entry(n))
        times.append((time.perf_counter() - started) * 1000)
    return times


def per_child() -> tuple[list[float], list[float], int]:
    """Milliseconds of a family's "who looked" and of an officer's child history, for each
    of ASKED children, and how many events each found (see user_histories)."""
    from contactpoint.audit import log
    from contactpoint.audit.models import Event
    from contactpoint.oversight import workspace
    from contactpoint.practice.families import subject_access_history

    families, officers, found = [], [], 0
    for child in CHILDREN[:ASKED]:
        started = time.perf_counter()
        found = len(subject_access_history.looks(child))
        families.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        # As workspace.child_history reads it: by tag, each event's child known by its tag.
        events = log.about_children(Event.objects.all(), {child}).filter(organisation_id=1)
        known = {log.child_tag(child): child}
        page = workspace._history(events, None, workspace.HISTORY_LIMIT, known)
        officers.append((time.perf_counter() - started) * 1000)
        assert len(page.events) == found and len(page.cpids) == 0  # no registry rows here
    return families, officers, found


def user_histories() -> tuple[list[float], int]:
    """Milliseconds of an officer's page of a user's history, for each of the 50 users, each
    event's child opened; and the events on a page."""
    from contactpoint.audit.models import Event
    from contactpoint.oversight import workspace

    times, shown = [], 0
    for user in range(50):
        started = time.perf_counter()
        events = Event.objects.filter(principal=f"user:bench-{user}", organisation_id=1)
        shown = len(workspace._history(events, None, workspace.HISTORY_LIMIT).events)
        times.append((time.perf_counter() - started) * 1000)
    return times, shown


def _worker(seconds: float, start: Any, out: Any) -> None:
    from django.db import connections

    connections.close_all()  # a fresh connection in this process
    from contactpoint.audit import log

    start.wait()
    done, began = 0, time.perf_counter()
    while time.perf_counter() < began + seconds:
        log.append(an_entry(done))
        done += 1
    out.put(done)


def throughput(workers: int, seconds: float) -> float:
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    start, out = context.Barrier(workers), context.Queue()
    procs = [context.Process(target=_worker, args=(seconds, start, out)) for _ in range(workers)]
    for p in procs:
        p.start()
    total: int = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def main() -> int:
    args = arguments()
    at = {"machine": machine(), "commit": commit()}
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        data = pathlib.Path(tmp)
        env = registry_env(data, 0, args.database_url)
        if args.database_url:
            fresh_postgres(args.database_url)
        contactpoint(env, "init", "--quiet")
        for name in ("DATABASE_URL", "CONTACTPOINT_KEYSTORE_URL"):
            if name in env:
                os.environ[name] = env[name]
        os.environ["CONTACTPOINT_DATA_DIR"] = str(data)
        setup_django(data)
        from django.db import connection

        from contactpoint.audit.verify import verify

        times = timed_appends(args.events)
        families, officers, each = per_child()
        users, shown = user_histories()
        one = throughput(1, args.seconds)
        many = throughput(args.workers, args.seconds)
        started = time.perf_counter()
        report = verify()
        verified = time.perf_counter() - started
        database = connection.vendor
        from contactpoint.audit.models import Checkpoint

        signed = Checkpoint.objects.count()
    print(f"machine:   {at['machine']}")
    print(f"commit:    {at['commit']}")
    print(f"database:  {database}")
    print(
        f"append:    p50 {percentile(times, 0.5):.2f} ms, p95 {percentile(times, 0.95):.2f} ms, "
        f"mean {statistics.fmean(times):.2f} ms ({len(times):,} one at a time)"
    )
    print(
        f"per child: {each} events of {args.events:,}: who looked p50 "
        f"{percentile(families, 0.5):.2f} ms, p95 {percentile(families, 0.95):.2f} ms; "
        f"officer's history p50 {percentile(officers, 0.5):.2f} ms, "
        f"p95 {percentile(officers, 0.95):.2f} ms ({ASKED} children)"
    )
    print(
        f"user history: a page of {shown} events, p50 {percentile(users, 0.5):.2f} ms, "
        f"p95 {percentile(users, 0.95):.2f} ms (50 users)"
    )
    print(f"sustained: {one:,.0f} events/s with 1 process, {many:,.0f} with {args.workers}")
    print(f"signed:    {signed:,} checkpoints on appends (at most one each 10 s of appending)")
    print(
        f"verify:    {report.events:,} events in {verified:.1f} s "
        f"({report.events / verified:,.0f} events/s), ok={report.ok}"
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
