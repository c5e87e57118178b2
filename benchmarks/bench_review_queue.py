"""Benchmark the review queue: `review list` (every open item, oldest first, with its
reason, candidate count and best weight), the same list of one reason (`--reason
shielded`), and the local index team's queue page's reads (`review_web.queue`: the open
items of the team's area, each item's areas worked out from its record and candidates).

Builds a synthetic registry of its own (SQLite in a temporary data directory, or with
--database-url on PostgreSQL: that database and the one named like it plus `_keys` are
dropped and made again; their names must start with `bench_`), writes --items open review
items as the code in this tree writes them (a tenth held as `shielded`, the rest in the
review band, each with up to five of the registry's children as candidates), and times
each read --repeat times. It runs on the code it sits in, so the same script measures
before and after a change (ADR 0010: a review item's reason and candidates sealed).

Usage: .venv/bin/python benchmarks/bench_review_queue.py [--children N] [--items I]
       [--repeat R] [--database-url postgres://...:5432/bench_review]
"""

from __future__ import annotations

import argparse
import pathlib
import random
import tempfile
from typing import Any

from measure import commit, machine, percentile, registry_here, timed


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=2000)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--database-url", help="PostgreSQL, e.g. postgres://...:5432/bench_x")
    return parser.parse_args()


def write_items(count: int, seed: int) -> None:
    """`count` open review items on linked records (the queue does not care), as the code
    in this tree writes them."""
    import importlib

    from django.db import transaction

    from contactpoint.linkage import store
    from contactpoint.linkage.models import ReviewItem
    from contactpoint.registry.models import Child, SourceRecord

    pick = random.Random(seed)
    children = list(Child.objects.values_list("pk", flat=True))
    records = list(SourceRecord.objects.values_list("pk", flat=True)[:count])
    model = store.active().record
    parts = [["given_name", "exact match", 4.25], ["dob", "exact match", 6.5]] * 4
    try:
        sealed: Any = importlib.import_module("contactpoint.linkage.review_items")
    except ImportError:
        sealed = None
    with transaction.atomic():
        for n, record in enumerate(records):
            reason = "shielded" if n % 10 == 0 else "review_band"
            chosen = pick.sample(children, pick.randint(1, 5))
            weights = [pick.uniform(-5.0, 20.0) for _ in chosen]
            if sealed is not None:
                candidates = [
                    sealed.ReviewCandidate(c, w, tuple(map(tuple, parts)))
                    for c, w in zip(chosen, weights, strict=True)
                ]
                sealed.new_item(record, reason, candidates, model.pk).save(force_insert=True)
            else:  # the code before: a clear reason, and a row per candidate
                clear: Any = ReviewItem
                listed: Any = importlib.import_module("contactpoint.linkage.models").ReviewCandidate
                item = clear.objects.create(source_record_id=record, reason=reason, model=model)
                listed.objects.bulk_create(
                    listed(item=item, child_id=c, weight=w, contributions=parts)
                    for c, w in zip(chosen, weights, strict=True)
                )


def index_team() -> Any:
    """An index team member of the first area, as signed in with a second factor."""
    from contactpoint.access.models import User
    from contactpoint.registry.models import Organisation

    org = Organisation.objects.filter(council_area__isnull=False).order_by("pk").first()
    assert org is not None
    user = User.objects.create(
        email="index-team@bench.example",
        name="Index Team",
        organisation=org,
        role="index_team",
        enabled=True,
    )
    return user.principal(second_factor=True)


def main() -> int:
    args = arguments()
    at = {"machine": machine(), "commit": commit()}
    with tempfile.TemporaryDirectory() as tmp:
        _, load = registry_here(pathlib.Path(tmp), args.children, args.seed, args.database_url)
        from contactpoint.linkage import review, review_web

        write_items(args.items, args.seed)
        principal = index_team()
        results = [
            ("review list", timed(lambda: len(review.open_items()), args.repeat)),
            (
                "review list --reason shielded",
                timed(lambda: len(review.open_items("shielded")), args.repeat),
            ),
            ("queue page's reads", timed(lambda: len(review_web.queue(principal)), args.repeat)),
        ]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"machine: {at['machine']}")
    print(f"commit: {at['commit']}  backend: {backend}  children: {args.children}")
    print(f"bulk load: {load:.1f} s; open review items: {args.items}")
    for name, (times, shown) in results:
        print(
            f"{name} ({shown} items), {len(times)} reads: p50 {percentile(times, 0.5):.1f} ms, "
            f"p95 {percentile(times, 0.95):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
