"""Compare the registry's links with a ground truth: pairwise precision, recall and F1.

Two records are a predicted pair when the registry linked them to the same child, and a
true pair when the ground truth gives them the same person. Records waiting for linkage
are their own cluster: they make no predicted pair, so they cost recall, not precision.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RecordKey = tuple[str, str]  # source code, the source's record id


@dataclass(frozen=True)
class PairCounts:
    true_positive: int
    predicted: int
    actual: int

    @property
    def precision(self) -> float:
        return self.true_positive / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positive / self.actual if self.actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pair_counts(
    predicted: Mapping[RecordKey, Hashable], truth: Mapping[RecordKey, Hashable]
) -> PairCounts:
    """Count predicted, true and correctly predicted pairs over the records in both maps.

    Args:
        predicted: record to the cluster the registry put it in.
        truth: record to the true person.

    Returns:
        The three pair counts, from cluster sizes (no pair is listed, so it runs in linear
        time on millions of records).
    """
    keys = predicted.keys() & truth.keys()
    both = Counter((predicted[k], truth[k]) for k in keys)
    return PairCounts(
        true_positive=sum(_pairs(n) for n in both.values()),
        predicted=sum(_pairs(n) for n in Counter(predicted[k] for k in keys).values()),
        actual=sum(_pairs(n) for n in Counter(truth[k] for k in keys).values()),
    )


@dataclass
class SourceFigures:
    records: int = 0
    waiting: int = 0


@dataclass
class Evaluation:
    records: int
    waiting: int
    missing: int
    counts: PairCounts
    by_source: dict[str, SourceFigures] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "waiting": self.waiting,
            "waiting_share": self.waiting / self.records if self.records else 0.0,
            "records_not_in_registry": self.missing,
            "pairs": asdict(self.counts),
            "precision": self.counts.precision,
            "recall": self.counts.recall,
            "f1": self.counts.f1,
            "by_source": {s: asdict(f) for s, f in sorted(self.by_source.items())},
        }


def read_truth(path: Path) -> dict[RecordKey, str]:
    """Read `source,record_id,child_key` rows from a file, or from every CSV in a folder."""
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    truth: dict[RecordKey, str] = {}
    for file in files:
        with file.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                truth[(row["source"], row["record_id"])] = row["child_key"]
    return truth


def evaluate(
    truth: Mapping[RecordKey, str], linked: Mapping[RecordKey, Hashable | None]
) -> Evaluation:
    """Score the registry's links (record to child id, None while waiting) against truth."""
    predicted: dict[RecordKey, Hashable] = {}
    by_source: dict[str, SourceFigures] = defaultdict(SourceFigures)
    for key, child in linked.items():
        figures = by_source[key[0]]
        figures.records += 1
        if child is None:
            figures.waiting += 1
            predicted[key] = ("waiting", key)
        else:
            predicted[key] = child
    return Evaluation(
        records=len(linked),
        waiting=sum(f.waiting for f in by_source.values()),
        missing=len(truth.keys() - linked.keys()),
        counts=pair_counts(predicted, truth),
        by_source=dict(by_source),
    )


def registry_links(keys: Iterable[RecordKey]) -> dict[RecordKey, Hashable | None]:
    """The registry's child for each truth record that was loaded (None while waiting)."""
    from contactpoint.ingest.batch import record_ref
    from contactpoint.registry.models import SourceRecord

    by_ref = {record_ref(source, record_id): (source, record_id) for source, record_id in keys}
    links: dict[RecordKey, Hashable | None] = {}
    refs = list(by_ref)
    for start in range(0, len(refs), 2000):
        rows = SourceRecord.objects.filter(record_ref__in=refs[start : start + 2000])
        for ref, child in rows.values_list("record_ref", "child_id"):
            links[by_ref[bytes(ref)]] = child
    return links
