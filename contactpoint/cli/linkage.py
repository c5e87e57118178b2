"""`contactpoint linkage evaluate --truth PATH`: the registry's links against ground truth."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from contactpoint.cli import error
from contactpoint.linkage.evaluate import evaluate, read_truth, registry_links


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    ev = sub.add_parser("evaluate", help="pairwise precision, recall and F1 against a truth file")
    ev.add_argument(
        "--truth",
        type=Path,
        required=True,
        help="a ground-truth CSV (source,record_id,child_key) or a folder of them",
    )
    ev.add_argument("--json", action="store_true", help="print JSON for machines")


def run(args: argparse.Namespace) -> int:
    if not args.truth.exists():
        return error(f"{args.truth} does not exist")
    try:
        truth = read_truth(args.truth)
    except (KeyError, UnicodeDecodeError):
        return error(f"{args.truth}: not a source,record_id,child_key file")
    result = evaluate(truth, registry_links(truth.keys())).as_dict()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"records evaluated:  {result['records']:,} "
        f"({result['records_not_in_registry']:,} in the truth but not loaded)"
    )
    print(f"waiting, not linked: {result['waiting']:,} ({result['waiting_share']:.2%})")
    print(f"precision:          {result['precision']:.4f}")
    print(f"recall:             {result['recall']:.4f}")
    print(f"F1:                 {result['f1']:.4f}")
    for source, figures in result["by_source"].items():
        print(f"  {source:<22} {figures['records']:>9,} records, {figures['waiting']:>7,} waiting")
    return 0
