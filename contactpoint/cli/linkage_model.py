"""`contactpoint linkage train|thresholds|model|blocking|run`: the model and its blocking.

`train` fits a new model version with Splink on the registry's records (or a feed
folder), chooses its thresholds for a target precision, stores it and makes it active;
`thresholds` chooses the active model's thresholds again (from the records and people's
review decisions); `model` shows the active model's match weights per level, the figures
it was trained on, and can write its JSON and Splink's charts; `blocking` reports how
many pairs each bulk blocking rule makes; `run` re-runs bulk linkage over the registry
(docs/linkage.md).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contactpoint.cli import error, progress
from contactpoint.linkage import bulk, rematch, rerun, store, training
from contactpoint.linkage.evaluate import read_truth
from contactpoint.linkage.inputs import feed_records, registry_records
from contactpoint.linkage.models import LinkageModel
from contactpoint.linkage.records import LinkRecord, as_table
from contactpoint.linkage.thresholds import Chosen

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
    train.add_argument("--upper", type=float, help="link weight (default: chosen for --precision)")
    train.add_argument(
        "--lower", type=float, help="review weight (default: chosen for --review-budget)"
    )
    _add_target_arguments(train)
    train.add_argument("--seed", type=int, default=1, help="seed for u sampling")
    train.add_argument("--min-records", type=int, default=1000, help=argparse.SUPPRESS)


def _add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--precision",
        type=float,
        default=store.TARGET_PRECISION,
        help=f"precision wanted at the link threshold (default {store.TARGET_PRECISION})",
    )
    parser.add_argument(
        "--review-budget",
        type=float,
        default=store.REVIEW_BUDGET,
        help=f"most pairs for review, as a share of records (default {store.REVIEW_BUDGET})",
    )


def _bad_targets(args: argparse.Namespace) -> str | None:
    if not 0 < args.precision < 1:
        return "--precision must be between 0 and 1"
    if not 0 <= args.review_budget < 1:
        return "--review-budget must be at least 0 and below 1"
    return None


def run_train(args: argparse.Namespace) -> int:
    if args.feeds and not args.feeds.is_dir():
        return error(f"{args.feeds} is not a folder")
    if (args.upper is None) != (args.lower is None):
        return error("give both --upper and --lower, or neither (both are then chosen)")
    if args.upper is not None and args.lower >= args.upper:
        return error("--lower must be below --upper")
    if problem := _bad_targets(args):
        return error(problem)
    table = as_table(_records(args.feeds))
    if table.num_rows < args.min_records:
        return error(
            f"{table.num_rows:,} records is too few to train on; at least "
            f"{args.min_records:,} are needed"
        )
    try:
        trained = training.train_table(table, seed=args.seed, progress=progress)
    except training.TooLittleToTrain as exc:
        return error(f"cannot train: {exc}")
    if args.upper is not None:
        saved = store.save(trained, upper=args.upper, lower=args.lower)
    else:
        progress("train: choosing thresholds from the model's predicted pairs")
        chosen = store.choose_thresholds(table, trained.model, args.precision, args.review_budget)
        saved = store.save(trained, chosen=chosen)
        _print_chosen(chosen)
    print(
        f"linkage model v{saved.version} trained on {saved.records_trained:,} records and "
        f"now active (link at {saved.upper_weight:g}, review from {saved.lower_weight:g})"
    )
    return 0


def add_thresholds_parser(sub: SubParsers) -> None:
    parser = sub.add_parser(
        "thresholds",
        help="choose the active model's thresholds for a target precision",
        description="Score the pairs the model's blocking finds among the registry's "
        "records (or a feed folder's), and with people's review decisions choose the link "
        "threshold for the target precision and the review threshold for the review "
        "budget; store them on the active model version (docs/linkage.md#thresholds).",
    )
    parser.add_argument("--feeds", type=Path, help="score a feed folder, not the registry")
    _add_target_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="print them, store nothing")


def run_thresholds(args: argparse.Namespace) -> int:
    if args.feeds and not args.feeds.is_dir():
        return error(f"{args.feeds} is not a folder")
    if problem := _bad_targets(args):
        return error(problem)
    active = store.active()
    table = as_table(_records(args.feeds))
    if not table.num_rows:
        return error("no records to choose thresholds on")
    chosen = store.choose_thresholds(
        table, store.splink_model(active), args.precision, args.review_budget
    )
    _print_chosen(chosen)
    if args.dry_run:
        print(f"v{active.version} unchanged (--dry-run)")
        return 0
    store.set_thresholds(active.record, chosen)
    print(f"v{active.version} now links at {chosen.upper:g} and reviews from {chosen.lower:g}")
    return 0


def _print_chosen(chosen: Chosen) -> None:
    print(
        f"thresholds for precision {chosen.target}: link at {chosen.upper:g}, review from "
        f"{chosen.lower:g}\n"
        f"  expected precision at link:      {chosen.precision:.4f}\n"
        f"  expected recall at link:         {chosen.recall:.4f}\n"
        f"  expected recall counting review: {chosen.recall_with_review:.4f}\n"
        f"  expected review share:           {chosen.review_share:.2%} of "
        f"{chosen.records:,} records\n"
        f"  from {chosen.pairs:,} blocked pairs and {chosen.labelled:,} decisions by people"
        + (
            f" (which alone allow linking from {chosen.labelled_upper:g})"
            if chosen.labelled_upper is not None
            else ""
        )
    )


def add_model_parser(sub: SubParsers) -> None:
    model = sub.add_parser(
        "model",
        help="show the active model's match weights; --out writes its JSON, --chart its charts",
    )
    model.add_argument("--out", type=Path, help="write the model's Splink JSON here")
    model.add_argument(
        "--chart",
        type=Path,
        metavar="DIR",
        help="write Splink's match-weights and m/u charts here as HTML (and PNG when "
        "vl-convert-python is installed)",
    )


def run_model(args: argparse.Namespace) -> int:
    active = store.active().record
    versions = LinkageModel.objects.count()
    print(
        f"active: v{active.version}, trained on {active.records_trained:,} records at "
        f"{active.created_at:%Y-%m-%d %H:%M} UTC; link at {active.upper_weight:g}, review "
        f"from {active.lower_weight:g}; {versions} version(s) stored"
    )
    _print_figures(active.figures)
    newest = LinkageModel.objects.order_by("-version").first()
    if newest is not None and newest.pk != active.pk:
        verdict = (newest.figures or {}).get("adoption") or {}
        failed = "; ".join(verdict.get("failures") or []) or "not made active"
        print(f"  newest: v{newest.version}, trained and not adopted: {failed}")
    prior = float(active.model["probability_two_random_records_match"])
    print(f"  prior: {prior:.3g} (weight {math.log2(prior / (1 - prior)):+.2f})")
    print(f"  {'comparison':<13} {'level':<42} {'m':>9} {'u':>9} {'weight':>7}")
    for comparison in active.model["comparisons"]:
        for level in comparison["comparison_levels"]:
            print("  " + _level_line(comparison["output_column_name"], level))
    if args.out:
        if args.out.exists():
            return error(f"{args.out} exists; not overwritten")
        args.out.write_text(json.dumps(active.model, indent=2), encoding="utf-8")
        print(f"wrote {args.out}")
    if args.chart:
        for path in write_charts(active.model, args.chart):
            print(f"wrote {path}")
    return 0


def _level_line(comparison: str, level: dict[str, Any]) -> str:
    label = str(level["label_for_charts"])
    if level.get("is_null_level"):
        return f"{comparison:<13} {label:<42} {'':>9} {'':>9} {'0':>7}"
    m, u = float(level["m_probability"]), float(level["u_probability"])
    tf = " (frequency-adjusted)" if level.get("tf_adjustment_column") else ""
    weight = math.log2(m / u)
    return f"{comparison:<13} {label:<42} {m:>9.3g} {u:>9.3g} {weight:>+7.2f}{tf}"


def _print_figures(figures: dict[str, Any]) -> None:
    """What the version was trained on: pairs per rule, counts only."""
    prior, em = figures.get("prior"), figures.get("em")
    if prior:
        rules = ", ".join(f"{r} {n:,}" for r, n in prior["rule_pairs"].items())
        print(f"  prior from deterministic rules (recall {prior['recall']}): {rules} pairs")
    if em:
        print("  EM on: " + ", ".join(f"{r} {n:,} pairs" for r, n in em.items()))
    if sources := figures.get("sources"):
        rule = "kept" if figures.get("twin_rule", True) else "set aside"
        twins = figures.get("twins_within_sources", 0)
        print(
            f"  trained across sources {', '.join(sources)}; twin rule {rule} "
            f"({twins:,} twin-like pairs within a source); every adoption check passed"
        )
    if chosen := figures.get("thresholds"):
        print(
            f"  thresholds chosen for precision {chosen['target']}: expected precision "
            f"{chosen['precision']:.4f}, recall {chosen['recall']:.4f}, counting review "
            f"{chosen['recall_with_review']:.4f}, review share {chosen['review_share']:.2%}"
        )


CHARTS = {"match-weights": "match_weights_chart", "m-u-parameters": "m_u_parameters_chart"}


def write_charts(model: dict[str, Any], folder: Path) -> list[Path]:
    """Splink's charts of a model, as HTML that works offline (the chart libraries inline),
    and as PNG when vl-convert-python is installed. Returns the files written."""
    from splink import DuckDBAPI, Linker

    folder.mkdir(parents=True, exist_ok=True)
    frame = DuckDBAPI(training.connect()).register(as_table([]), dataset_display_name="records")
    linker = Linker(frame, model, log_level=None)
    try:
        vl_convert: Any = importlib.import_module("vl_convert")
    except ImportError:
        vl_convert = None
    written = []
    for name, method in CHARTS.items():
        chart = getattr(linker.visualisations, method)()
        html = folder / f"{name}.html"
        chart.save_offline_chart(str(html), overwrite=True, print_msg=False)
        written.append(html)
        if vl_convert is not None:
            png = folder / f"{name}.png"
            png.write_bytes(vl_convert.vegalite_to_png(chart.chart_dict, scale=2))
            written.append(png)
    return written


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
        "waiting records and merge children the clusters join, conservatively; then match "
        "again the records waiting as too thin to match safely "
        "(docs/linkage.md#re-running-linkage).",
    )
    rerun.add_argument("--dry-run", action="store_true", help="only report what would change")


def run_run(args: argparse.Namespace) -> int:
    found = rerun.plan(progress)
    print(("would make: " if args.dry_run else "") + found.summary())
    if not args.dry_run:
        rerun.apply(found)
    # After the links and merges: the children they settle may be the ones thin records wait for.
    again = rematch.rematch(progress, dry_run=args.dry_run)
    print(("would have: " if args.dry_run else "") + again.summary())
    if not args.dry_run:
        print("done; every link and merge is a decision `contactpoint review reverse` can undo")
    return 0
