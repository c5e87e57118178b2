"""Benchmark what reads and writes a child's special-category facts and organisation
links: the bulk load (which writes carers and feed involvements) and a full record view
(which opens carers and every involvement's role, sensitive category, organisation and
practitioner).

Builds a synthetic registry of its own (SQLite in a temporary data directory, or with
--database-url on PostgreSQL: that database and the one named like it plus `_keys` are
dropped and made again; their names must start with `bench_` or end with `_bench`), then
builds the record of --views children, each as a practitioner of the child's own school,
and reports p50/p95; then as many need-to-know checks (is this organisation involved with
this child) and search result pages' misuse signals (10 children each), and the nightly
expiry run on a day when every involvement is due a reminder (which opens every one's
organisation and practitioner); and how many children their school and GP single out (with
the keys), against how many stored values would group children without them.

Usage: .venv/bin/python benchmarks/bench_sealed_facts.py [--children N] [--views V]
       [--database-url postgres://postgres@127.0.0.1:5432/bench_sealed]
"""

from __future__ import annotations

import argparse
import pathlib
import random
import tempfile
import time
import uuid

from measure import (
    commit,
    machine,
    percentile,
    registry_here,
)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=3000)
    parser.add_argument("--views", type=int, default=300)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--database-url", help="PostgreSQL, e.g. postgres://...:5432/bench_x")
    return parser.parse_args()


def schools_of_children() -> dict[uuid.UUID, int]:
    """Each child's school (an open involvement with a school), by child id."""
    from contactpoint.registry.involvement_facts import with_links
    from contactpoint.registry.models import Involvement

    rows = with_links(Involvement.objects.filter(end_date__isnull=True))
    return {i.child_id: i.organisation_id for i in rows if i.organisation.kind == "school"}


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
    from contactpoint.practice.relationships import involved

    chosen = random.Random(seed + 1).sample(sorted(schools), min(count, len(schools)))
    others = sorted(set(schools.values()))
    times = []
    for n, child_id in enumerate(chosen):
        school = schools[child_id] if n % 2 else next(o for o in others if o != schools[child_id])
        started = time.perf_counter()
        assert involved(school, child_id) is bool(n % 2)
        times.append((time.perf_counter() - started) * 1000)
    return times


def search_signals(schools: dict[uuid.UUID, int], count: int, seed: int) -> list[float]:
    """Milliseconds for the misuse signals of each of `count` search results of 10 children
    (`oversight.signals`, which a search runs before its audit events: it reads whether the
    searcher's organisation is involved with each child, and the children's areas)."""
    from contactpoint.access.permissions import Principal, Role
    from contactpoint.oversight.signals import Seen, signals

    everyone = sorted(schools)
    pick = random.Random(seed + 2)
    times = []
    for _ in range(count):
        page = pick.sample(everyone, min(10, len(everyone)))
        principal = Principal("user", str(uuid.uuid4()), Role.PRACTITIONER, schools[page[0]], None)
        started = time.perf_counter()
        signals(principal, {child: Seen() for child in page})
        times.append((time.perf_counter() - started) * 1000)
    return times


def reminders() -> tuple[int, float]:
    """The nightly expiry run on a day when every feed involvement is due a reminder (23
    months after the feeds' dates, no practitioner signed up): how many, and the seconds."""
    import datetime as dt

    from contactpoint.access.standing import add_months
    from contactpoint.practice.involvements import expiry
    from contactpoint.registry.models import Involvement

    newest = Involvement.objects.order_by("-last_confirmed").values_list(
        "last_confirmed", flat=True
    )[0]
    started = time.perf_counter()
    report = expiry.run(add_months(newest, 23) + dt.timedelta(days=1))
    return report.reminded, time.perf_counter() - started


def unique_on_school_and_gp() -> tuple[int, int, int]:
    """What organisation links give: how many children with both a school and a GP are
    the only one with that pair, out of how many (opened with the keys); and how many
    stored values a thief without them could group children by (`member` digests shared
    by two children)."""
    from collections import Counter, defaultdict

    from contactpoint.registry.involvement_facts import with_links
    from contactpoint.registry.models import Involvement

    pairs: dict[object, dict[str, int]] = defaultdict(dict)
    for inv in with_links(Involvement.objects.filter(end_date__isnull=True)):
        if inv.organisation.kind in ("school", "gp_practice"):
            pairs[inv.child_id][inv.organisation.kind] = inv.organisation_id
    both = [(p["school"], p["gp_practice"]) for p in pairs.values() if len(p) == 2]
    counts = Counter(both)
    children_of: dict[bytes, set[object]] = defaultdict(set)
    for child, digest in Involvement.objects.values_list("child_id", "member"):
        children_of[bytes(digest)].add(child)
    shared = sum(1 for c in children_of.values() if len(c) > 1)
    return sum(1 for pair in both if counts[pair] == 1), len(both), shared


def main() -> int:
    args = arguments()
    with tempfile.TemporaryDirectory() as tmp:
        _, load = registry_here(pathlib.Path(tmp), args.children, args.seed, args.database_url)
        schools = schools_of_children()
        views = record_views(schools, args.views, args.seed)
        checks = need_to_know(schools, args.views, args.seed)
        pages = search_signals(schools, args.views, args.seed)
        unique, with_both, shared = unique_on_school_and_gp()
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
    print(
        f"search signals, {len(pages)} pages of 10: p50 {percentile(pages, 0.5):.2f} ms, "
        f"p95 {percentile(pages, 0.95):.2f} ms"
    )
    print(f"expiry reminders: {reminded} involvements in {reminding:.2f} s")
    print(f"children unique on their (school, GP) pair, with the keys: {unique} of {with_both}")
    print(f"stored digests shared by two children (what groups them without keys): {shared}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
