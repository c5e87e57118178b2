"""Benchmark what reads and writes a child's special-category facts: the bulk load (which
writes carers and feed involvements) and a full record view (which opens carers and every
involvement's role, sensitive category and organisation).

Builds a synthetic registry of its own (SQLite in a temporary data directory, or with
--database-url on PostgreSQL: that database and the one named like it plus `_keys` are
dropped and made again; their names must start with `bench_`), then builds the record of
--views children, each as a practitioner of the child's own school, and reports p50/p95,
and how many children the clear organisation links single out by school and GP alone.

Usage: .venv/bin/python benchmarks/bench_sealed_facts.py [--children N] [--views V]
       [--database-url postgres://postgres@127.0.0.1:5432/bench_sealed]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import random
import tempfile
import time
import uuid

from bench_search import fresh_postgres
from measure import build_registry, commit, machine, percentile, registry_env, setup_django


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=3000)
    parser.add_argument("--views", type=int, default=300)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--database-url", help="PostgreSQL, e.g. postgres://...:5432/bench_x")
    return parser.parse_args()


def schools_of_children() -> dict[uuid.UUID, int]:
    """Each child's school (an open involvement with a school), by child id."""
    from contactpoint.registry.models import Involvement

    return dict(
        Involvement.objects.filter(organisation__kind="school", end_date__isnull=True).values_list(
            "child_id", "organisation_id"
        )
    )


def record_views(schools: dict[uuid.UUID, int], count: int, seed: int) -> list[float]:
    """Milliseconds to build each of `count` full records (without the audit append); a
    record its school does not see in full (archived, in another area's care) is left out."""
    from contactpoint.access.permissions import Principal, Role
    from contactpoint.practice.record import View, _record_for
    from contactpoint.registry.models import Child

    chosen = random.Random(seed).sample(sorted(schools), min(count, len(schools)))
    times = []
    for child_id in chosen:
        child = Child.objects.get(pk=child_id)
        principal = Principal("user", str(uuid.uuid4()), Role.PRACTITIONER, schools[child_id], None)
        started = time.perf_counter()
        shown, _ = _record_for(principal, child)
        elapsed = (time.perf_counter() - started) * 1000
        if shown.view is View.FULL and shown.involvements:
            times.append(elapsed)
    return times


def need_to_know(schools: dict[uuid.UUID, int], count: int, seed: int) -> list[float]:
    """Milliseconds for each of `count` need-to-know checks ("is this organisation involved
    with this child"), half for the child's own school (yes), half for another (no)."""
    from contactpoint.access.relationships import involved

    chosen = random.Random(seed + 1).sample(sorted(schools), min(count, len(schools)))
    others = sorted(set(schools.values()))
    times = []
    for n, child_id in enumerate(chosen):
        school = schools[child_id] if n % 2 else next(o for o in others if o != schools[child_id])
        started = time.perf_counter()
        assert involved(school, child_id) is bool(n % 2)
        times.append((time.perf_counter() - started) * 1000)
    return times


def reminders() -> tuple[int, float]:
    """The nightly expiry run on a day when every feed involvement is due a reminder (23
    months after the feeds' dates, no practitioner signed up): how many, and the seconds."""
    import datetime as dt

    from contactpoint.access.standing import add_months
    from contactpoint.practice import expiry
    from contactpoint.registry.models import Involvement

    newest = Involvement.objects.order_by("-last_confirmed").values_list(
        "last_confirmed", flat=True
    )[0]
    started = time.perf_counter()
    report = expiry.run(add_months(newest, 23) + dt.timedelta(days=1))
    return report.reminded, time.perf_counter() - started


def unique_on_school_and_gp() -> tuple[int, int]:
    """What the clear organisation links still give a thief: how many children with both a
    school and a GP are the only one with that pair, out of how many."""
    from collections import Counter, defaultdict

    from contactpoint.registry.models import Involvement

    pairs: dict[object, dict[str, int]] = defaultdict(dict)
    open_links = Involvement.objects.filter(
        end_date__isnull=True, organisation__kind__in=("school", "gp_practice")
    ).values_list("child_id", "organisation__kind", "organisation_id")
    for child, kind, organisation in open_links:
        pairs[child][kind] = organisation
    both = [(p["school"], p["gp_practice"]) for p in pairs.values() if len(p) == 2]
    counts = Counter(both)
    return sum(1 for pair in both if counts[pair] == 1), len(both)


def main() -> int:
    args = arguments()
    with tempfile.TemporaryDirectory() as tmp:
        data = pathlib.Path(tmp) / "data"
        data.mkdir()
        if args.database_url:
            fresh_postgres(args.database_url)
        env = registry_env(data, 0, args.database_url)
        load = build_registry(env, args.children, args.seed, pathlib.Path(tmp) / "feeds")
        for name in ("DATABASE_URL", "CONTACTPOINT_KEYSTORE_URL"):
            if name in env:
                os.environ[name] = env[name]
        setup_django(data)
        schools = schools_of_children()
        views = record_views(schools, args.views, args.seed)
        checks = need_to_know(schools, args.views, args.seed)
        unique, with_both = unique_on_school_and_gp()
        reminded, reminding = reminders()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"machine: {machine()}")
    print(f"commit: {commit()}  backend: {backend}  children: {args.children}")
    print(f"bulk load: {load:.1f} s")
    print(
        f"record view (no audit), {len(views)} children: p50 {percentile(views, 0.5):.2f} ms, "
        f"p95 {percentile(views, 0.95):.2f} ms"
    )
    print(
        f"need-to-know check, {len(checks)} checks: p50 {percentile(checks, 0.5):.3f} ms, "
        f"p95 {percentile(checks, 0.95):.3f} ms"
    )
    print(f"expiry reminders: {reminded} involvements in {reminding:.2f} s")
    print(f"children unique on their (school, GP) pair: {unique} of {with_both}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
