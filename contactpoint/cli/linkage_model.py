"""`contactpoint linkage train|model|blocking`: the linkage model and its blocking.

`train` fits a new model version with Splink on the registry's records (or a feed
folder), stores it and makes it active; `model` shows the active model and can write its
JSON; `blocking` reports how many pairs each bulk blocking rule makes; `run` re-runs bulk
linkage over the registry (docs/linkage.md).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from contactpoint.cli import error, progress
from contactpoint.linkage import bulk, rerun, store, training
from contactpoint.linkage.evaluate import read_truth
from contactpoint.linkage.inputs import feed_records, registry_records
from contactpoint.linkage.models import LinkageModel
from contactpoint.linkage.records import LinkRecord

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _records(folder: Path | None) -> Iterator[LinkRecord]:
    return feed_records(folder) if folder else registry_records()


def add_train_parser(sub: SubParsers) -> None:
    train = sub.add_parser(
        "train",
        help="train a new model version with Splink and make it active",
        description="Train the Fellegi-Sunter model with Splink on an in-memory DuckDB, store "
        "it as the next version and make it the active one (docs/linkage.md).",
    )
    train.add_argument("--feeds", type=Path, help="train on a feed folder, not the registry")
    train.add_argument("--upper", type=float, default=store.DEFAULT_UPPER, help="link weight")
    train.add_argument("--lower", type=float, default=store.DEFAULT_LOWER, help="review weight")
    train.add_argument("--seed", type=int, default=1, help="seed for u sampling")
    train.add_argument("--min-records", type=int, default=1000, help=argparse.SUPPRESS)


def run_train(args: argparse.Namespace) -> int:
    if args.feeds and not args.feeds.is_dir():
        return error(f"{args.feeds} is not a folder")
    if args.lower >= args.upper:
        return error("--lower must be below --upper")
    records = list(_records(args.feeds))
    if len(records) < args.min_records:
        return error(
            f"{len(records):,} records is too few to train on; at least {args.min_records:,} "
            "are needed"
        )
    trained = training.train(records, seed=args.seed, progress=progress)
    saved = store.save(trained, upper=args.upper, lower=args.lower)
    print(
        f"linkage model v{saved.version} trained on {saved.records_trained:,} records and "
        f"now active (link at {saved.upper_weight}, review from {saved.lower_weight})"
    )
    return 0


def add_model_parser(sub: SubParsers) -> None:
    model = sub.add_parser("model", help="show the active model; --out writes its JSON")
    model.add_argument("--out", type=Path, help="write the model's Splink JSON here")


def run_model(args: argparse.Namespace) -> int:
    active = store.active().record
    versions = LinkageModel.objects.count()
    print(
        f"active: v{active.version}, trained on {active.records_trained:,} records at "
        f"{active.created_at:%Y-%m-%d %H:%M} UTC; link at {active.upper_weight}, review "
        f"from {active.lower_weight}; {versions} version(s) stored"
    )
    for comparison in active.model["comparisons"]:
        labels = [lv["label_for_charts"] for lv in comparison["comparison_levels"]]
        print(f"  {comparison['output_column_name']:<12} {' | '.join(labels)}")
    if args.out:
        if args.out.exists():
            return error(f"{args.out} exists; not overwritten")
        args.out.write_text(json.dumps(active.model, indent=2), encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


def add_blocking_parser(sub: SubParsers) -> None:
    blocking = sub.add_parser("blocking", help="how many pairs each blocking rule makes")
    blocking.add_argument("--feeds", type=Path, help="count on a feed folder, not the registry")
    blocking.add_argument(
        "--sample", type=float, default=1.0, help="share of records sampled (default all)"
    )
    blocking.add_argument(
        "--truth", type=Path, help="ground truth (file or folder): also print blocking recall"
    )


def run_blocking(args: argparse.Namespace) -> int:
    if not 0 < args.sample <= 1:
        return error("--sample must be above 0 and at most 1")
    if args.truth is not None:
        return _blocking_recall(args)
    report = bulk.blocking_report(_records(args.feeds), args.sample)
    print(f"{report.records:,} records")
    for rule, pairs in report.by_rule:
        print(f"  {pairs:>14,}  {rule}")
    print(f"  {report.comparisons:>14,}  in all: {report.per_record:.1f} per record")
    return 0


def _blocking_recall(args: argparse.Namespace) -> int:
    """Every blocked pair counted (no sample), and the true pairs among them."""
    if args.feeds is None:
        return error("--truth needs --feeds: the truth names feed records")
    truth = {f"{s}:{r}": child for (s, r), child in read_truth(args.truth).items()}
    found = bulk.blocking_recall(_records(args.feeds), truth)
    print(f"{found.records:,} records in the truth, {found.true_pairs:,} true pairs")
    print(f"  {'pairs':>14}  {'true pairs':>12}  rule")
    for rule, pairs, true in found.by_rule:
        print(f"  {pairs:>14,}  {true:>12,}  {rule}")
    compared = sum(n for _, n, _ in found.by_rule)
    per = compared / max(found.records, 1)
    print(f"  {compared:>14,}  {found.reached:>12,}  in all: {per:.1f} per record")
    missed = found.true_pairs - found.reached
    print(f"blocking recall {found.recall:.4f} ({missed:,} true pairs never scored)")
    return 0


def add_run_parser(sub: SubParsers) -> None:
    rerun = sub.add_parser(
        "run",
        help="re-run bulk linkage over the registry and apply links and merges",
        description="Cluster every source record with Splink and the active model; link "
        "waiting records and merge children the clusters join, conservatively "
        "(docs/linkage.md#re-running-linkage).",
    )
    rerun.add_argument("--dry-run", action="store_true", help="only report what would change")


def run_run(args: argparse.Namespace) -> int:
    found = rerun.plan(progress)
    print(("would make: " if args.dry_run else "") + found.summary())
    if not args.dry_run:
        rerun.apply(found)
        print("done; every link and merge is a decision `contactpoint review reverse` can undo")
    return 0
