"""`contactpoint linkage ACTION`: linkage commands.

`evaluate --truth PATH` scores the registry's links against a ground truth
(docs/linkage-evaluation.md). Each action has an `add_<action>_parser(sub)` and a
`run_<action>(args)`, and is listed in ACTIONS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contactpoint.cli import error, linkage_model
from contactpoint.linkage.evaluate import (
    births_for,
    evaluate,
    read_truth,
    record_bands,
    registry_states,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    add_evaluate_parser(sub)
    linkage_model.add_train_parser(sub)
    linkage_model.add_thresholds_parser(sub)
    linkage_model.add_model_parser(sub)
    linkage_model.add_blocking_parser(sub)
    linkage_model.add_run_parser(sub)


def run(args: argparse.Namespace) -> int:
    return ACTIONS[args.action](args)


# --- evaluate --------------------------------------------------------------------------


def add_evaluate_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ev = sub.add_parser(
        "evaluate",
        help="precision, recall and the review share against a ground truth",
        description="Score the registry's links against a ground truth, overall, by source "
        "and by age band (docs/linkage-evaluation.md).",
    )
    ev.add_argument(
        "--truth",
        type=Path,
        required=True,
        help="a ground-truth CSV (source,record_id,child_key) or a folder of them",
    )
    ev.add_argument(
        "--feeds",
        type=Path,
        help="the feed folder to read dates of birth from, for age bands "
        "(default: the folder holding the truth folder, as `synth` writes them); a record "
        "not in a standard feed there (a mapped CSV, FHIR) gives the one the registry holds",
    )
    ev.add_argument(
        "--as-at",
        type=dt.date.fromisoformat,
        default=dt.date.today(),
        metavar="YYYY-MM-DD",
        help="the date ages are taken at (default today)",
    )
    ev.add_argument("--json", action="store_true", help="print JSON for machines")


def run_evaluate(args: argparse.Namespace) -> int:
    if not args.truth.exists():
        return error(f"{args.truth} does not exist")
    try:
        truth = read_truth(args.truth)
    except (KeyError, UnicodeDecodeError):
        return error(f"{args.truth}: not a source,record_id,child_key file")
    feeds = args.feeds or (args.truth if args.truth.is_dir() else args.truth.parent).parent
    if not feeds.is_dir():
        return error(f"{feeds} is not a folder")
    births = births_for(feeds, truth.keys())
    bands = record_bands(truth, births, args.as_at)
    result = evaluate(truth, registry_states(truth.keys()), bands, args.as_at).as_dict()
    result["records_with_birth_date"] = len(births)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_evaluation(result)
    return 0


def print_evaluation(result: dict[str, Any]) -> None:
    """Print an evaluation's as_dict() for people, each target beside its figure."""
    targets = result["targets"]
    print(
        f"records evaluated:       {result['records']:>9,} "
        f"({result['records_not_in_registry']:,} in the truth but not loaded)"
    )
    print(f"records waiting:         {result['waiting']:>9,}")
    share = result["review_share"]
    print(f"  share (review share):  {share:>9.2%}  {_target(targets, 'review_share')}")
    reasons = ", ".join(f"{r} {n:,}" for r, n in result["review_reasons"].items())
    print(f"  by reason:             {reasons or '-'}")
    print(f"precision at auto-link:  {result['precision']:>9.4f}  {_target(targets, 'precision')}")
    print(f"recall at auto-link:     {result['recall']:>9.4f}")
    print(f"F1 at auto-link:         {result['f1']:>9.4f}")
    print(
        f"recall counting review:  {result['recall_with_review']:>9.4f}  "
        f"{_target(targets, 'recall_with_review')}"
    )
    _print_table("by source", result["by_source"])
    band_note = f"by age band at {result['as_at']}"
    if not result["records_with_birth_date"]:
        band_note += " (no dates of birth found in the feeds: all unknown)"
    _print_table(band_note, result["by_age_band"])


def _target(targets: dict[str, dict[str, Any]], figure: str) -> str:
    """The target for a figure (contactpoint.linkage.evaluate.TARGETS), met or not."""
    t = targets[figure]
    bound = f"{t['bound']:.2%}" if figure.endswith("share") else f"{t['bound']:.4f}"
    word = "at least" if t["at_least"] else "at most"
    return f"target {word} {bound}: {'PASS' if t['met'] else 'FAIL'}"


def _print_table(title: str, rows: dict[str, dict[str, Any]]) -> None:
    print(f"\n{title}")
    print(f"  {'':<22} {'records':>9} {'waiting':>8} {'precision':>9} {'recall':>7} {'+review':>7}")
    for name, f in rows.items():
        print(
            f"  {name:<22} {f['records']:>9,} {f['review_share']:>8.2%} {f['precision']:>9.4f} "
            f"{f['recall']:>7.4f} {f['recall_with_review']:>7.4f}"
        )


ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "evaluate": run_evaluate,
    "train": linkage_model.run_train,
    "thresholds": linkage_model.run_thresholds,
    "model": linkage_model.run_model,
    "blocking": linkage_model.run_blocking,
    "run": linkage_model.run_run,
}
