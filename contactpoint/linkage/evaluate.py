"""Compare the registry's links with a ground truth (docs/linkage-evaluation.md).

Two records are a predicted pair when the registry linked them to the same child, and a
true pair when the ground truth gives them the same person. Records waiting for linkage
(in review, held, or with nothing to link on) are their own cluster: they make no
predicted pair, so at auto-link they cost recall, never precision.

Recall counting review gives a true pair {a, b} credit when a person working the review
queue would be shown the right answer:

1. a and b are linked to the same child (an auto-link pair), or
2. one of them waits on an open review item whose candidates include the child the other
   is linked to, or
3. both wait on open review items that share a candidate child.

A record waiting without an open review item (reason `none`) has no candidates, so it
never counts under 2 or 3.

Every figure is also broken down by source and by age band. A pair counts for a group
when at least one of its two records is in it, so a pair between two sources counts for
both (the groups' pairs add up to more than the whole). A record's age band is its true
child's: all records of one person share a band, so a true pair is in exactly one band.

No figure holds a child's data: they are counts and shares, and the dates of birth read
from the feeds (or, for a local system's files, from the registry's own records) serve
only to choose a band.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

RecordKey = tuple[str, str]  # source code, the source's record id

# The targets on the synthetic population (docs/linkage-evaluation.md).
TARGET_PRECISION = 0.999  # pairwise precision at auto-link, at least
TARGET_RECALL_WITH_REVIEW = 0.995  # pairwise recall counting the review band, at least
TARGET_REVIEW_SHARE = 0.02  # share of records waiting, at most

# Age in whole years at the as-at date; a band includes both ends.
AGE_BANDS = (
    ("0-4", 0, 4),
    ("5-10", 5, 10),
    ("11-15", 11, 15),
    ("16-17", 16, 17),
    ("18-25", 18, 25),
)
OUTSIDE_BANDS = "outside 0-25"
UNKNOWN_BAND = "unknown"  # no readable date of birth in any of the person's records
NO_REVIEW_ITEM = "none"  # the reason given for a waiting record with no open review item


@dataclass(frozen=True)
class RecordState:
    """Where the registry put one record: linked to a child, or waiting.

    candidates are the children of the record's open review item, and reason that item's
    reason (NO_REVIEW_ITEM when there is none); both are empty for a linked record.
    """

    child: Hashable | None = None
    candidates: frozenset[Hashable] = frozenset()
    reason: str | None = None

    @property
    def waiting(self) -> bool:
        return self.child is None


def linked(child: Hashable) -> RecordState:
    return RecordState(child=child)


def waiting(reason: str = NO_REVIEW_ITEM, candidates: Iterable[Hashable] = ()) -> RecordState:
    return RecordState(candidates=frozenset(candidates), reason=reason)


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
    return pair_counts_of((predicted[k], truth[k]) for k in keys)


def pair_counts_of(records: Iterable[tuple[Hashable, Hashable]]) -> PairCounts:
    """pair_counts from (predicted cluster, true person) of each record, read once: for
    populations too large to hold two maps of every record."""
    both: Counter[tuple[Hashable, Hashable]] = Counter(records)
    predicted: Counter[Hashable] = Counter()
    actual: Counter[Hashable] = Counter()
    for (cluster, person), n in both.items():
        predicted[cluster] += n
        actual[person] += n
    return PairCounts(
        true_positive=sum(_pairs(n) for n in both.values()),
        predicted=sum(_pairs(n) for n in predicted.values()),
        actual=sum(_pairs(n) for n in actual.values()),
    )


def found_counting_review(records: Iterable[RecordState]) -> int:
    """Count the pairs among one true person's records that review would find (rules 1-3)."""
    records = list(records)
    by_child = Counter(r.child for r in records if r.child is not None)
    return sum(_pairs(n) for n in by_child.values()) + _found_in_review(records)


def _found_in_review(records: list[RecordState]) -> int:
    """Count the pairs found by rules 2 and 3 alone: those with a waiting record.

    Nothing is listed pair by pair: linked records are counted by child and waiting ones
    by candidate set; only distinct candidate sets are compared two by two, and one
    person's waiting records have a handful of those at most.
    """
    shown = Counter(r.candidates for r in records if r.child is None and r.candidates)
    if not shown:
        return 0
    by_child = Counter(r.child for r in records if r.child is not None)
    found = sum(n * by_child[c] for candidates, n in shown.items() for c in candidates)
    found += sum(_pairs(n) for n in shown.values())
    return found + sum(shown[a] * shown[b] for a, b in combinations(shown, 2) if a & b)


@dataclass
class Figures:
    """The figures for all records, or for one source or age band."""

    records: int = 0
    waiting: int = 0
    true_positive: int = 0
    predicted: int = 0
    actual: int = 0
    found_counting_review: int = 0

    @property
    def counts(self) -> PairCounts:
        return PairCounts(self.true_positive, self.predicted, self.actual)

    @property
    def review_share(self) -> float:
        return self.waiting / self.records if self.records else 0.0

    @property
    def recall_with_review(self) -> float:
        return self.found_counting_review / self.actual if self.actual else 1.0

    def as_dict(self) -> dict[str, Any]:
        counts = self.counts
        return {
            "records": self.records,
            "waiting": self.waiting,
            "review_share": self.review_share,
            "precision": counts.precision,
            "recall": counts.recall,
            "f1": counts.f1,
            "recall_with_review": self.recall_with_review,
            "pairs": {**asdict(counts), "found_counting_review": self.found_counting_review},
        }


@dataclass(frozen=True)
class Target:
    figure: str  # a key of Figures.as_dict()
    label: str
    bound: float
    at_least: bool  # else at most

    def met(self, value: float) -> bool:
        return value >= self.bound if self.at_least else value <= self.bound


TARGETS = (
    Target("precision", "precision at auto-link", TARGET_PRECISION, at_least=True),
    Target("recall_with_review", "recall counting review", TARGET_RECALL_WITH_REVIEW, True),
    Target("review_share", "share of records waiting", TARGET_REVIEW_SHARE, at_least=False),
)


@dataclass
class Evaluation:
    overall: Figures
    missing: int  # records in the truth the registry does not hold
    reasons: dict[str, int] = field(default_factory=dict)  # waiting records by reason
    by_source: dict[str, Figures] = field(default_factory=dict)
    by_age_band: dict[str, Figures] = field(default_factory=dict)
    as_at: dt.date | None = None  # the date the age bands are taken at

    def as_dict(self) -> dict[str, Any]:
        overall = self.overall.as_dict()
        return {
            **overall,
            "records_not_in_registry": self.missing,
            "review_reasons": dict(sorted(self.reasons.items())),
            "targets": {
                t.figure: {
                    "label": t.label,
                    "bound": t.bound,
                    "at_least": t.at_least,
                    "value": overall[t.figure],
                    "met": t.met(overall[t.figure]),
                }
                for t in TARGETS
            },
            "by_source": {s: f.as_dict() for s, f in sorted(self.by_source.items())},
            "as_at": self.as_at.isoformat() if self.as_at else None,
            "by_age_band": {b: f.as_dict() for b, f in _band_order(self.by_age_band)},
        }


def _band_order(bands: Mapping[str, Figures]) -> list[tuple[str, Figures]]:
    order = [b for b, _, _ in AGE_BANDS] + [OUTSIDE_BANDS, UNKNOWN_BAND]
    return sorted(bands.items(), key=lambda item: order.index(item[0]))


def _touching(
    cluster: Mapping[RecordKey, Hashable], group: Callable[[RecordKey], str]
) -> Counter[str]:
    """Count, per group, the within-cluster pairs with at least one record in the group.

    Pairs with a record in the group are all pairs less those with neither, so only
    cluster sizes are needed.
    """
    sizes = Counter(cluster.values())
    in_group = Counter((c, group(k)) for k, c in cluster.items())
    touching: Counter[str] = Counter()
    for (c, g), n in in_group.items():
        touching[g] += _pairs(sizes[c]) - _pairs(sizes[c] - n)
    return touching


def _figures(
    truth: Mapping[RecordKey, str],
    states: Mapping[RecordKey, RecordState],
    group: Callable[[RecordKey], str],
) -> dict[str, Figures]:
    """Every figure per group, over records in both the truth and the registry."""
    keys = [k for k in states if k in truth]
    predicted = {k: ("waiting", k) if states[k].child is None else states[k].child for k in keys}
    actual = {k: truth[k] for k in keys}
    figures: dict[str, Figures] = defaultdict(Figures)
    for k in keys:
        figures[group(k)].records += 1
        figures[group(k)].waiting += states[k].waiting
    for g, n in _touching(predicted, group).items():
        figures[g].predicted = n
    for g, n in _touching(actual, group).items():
        figures[g].actual = n
    for g, n in _touching({k: (predicted[k], actual[k]) for k in keys}, group).items():
        figures[g].true_positive = n
    # Rule 1 finds exactly the true positives; rules 2 and 3 add the rest.
    finds = _review_finds(keys, actual, states, group)
    for g, f in figures.items():
        f.found_counting_review = f.true_positive + finds[g]
    return dict(figures)


def _review_finds(
    keys: list[RecordKey],
    actual: Mapping[RecordKey, str],
    states: Mapping[RecordKey, RecordState],
    group: Callable[[RecordKey], str],
) -> Counter[str]:
    """Count per group the true pairs only review finds, for each person with candidates.

    The pairs with a record in group g are all the person's pairs less those among the
    records outside g.
    """
    reviewed = {actual[k] for k in keys if states[k].candidates}
    people: dict[str, list[RecordKey]] = defaultdict(list)
    for k in keys:
        if actual[k] in reviewed:
            people[actual[k]].append(k)
    finds: Counter[str] = Counter()
    for members in people.values():
        whole = _found_in_review([states[k] for k in members])
        if not whole:  # then no subset finds any either
            continue
        for g in {group(k) for k in members}:
            rest = [states[k] for k in members if group(k) != g]
            finds[g] += whole - _found_in_review(rest)
    return finds


def evaluate(
    truth: Mapping[RecordKey, str],
    states: Mapping[RecordKey, RecordState],
    bands: Mapping[RecordKey, str] | None = None,
    as_at: dt.date | None = None,
) -> Evaluation:
    """Score where the registry put each record against the truth.

    Args:
        truth: record to the true person.
        states: record to where the registry put it; records not in the truth are ignored.
        bands: record to its person's age band (record_bands); None for no age breakdown.
        as_at: the date the bands were taken at, for the report.

    Returns:
        The figures overall, by source and by age band, and waiting records by reason.
    """
    overall = _figures(truth, states, lambda _: "all").get("all", Figures())
    band_of = bands or {}
    waiting_now = [s for k, s in states.items() if k in truth and s.waiting]
    return Evaluation(
        overall=overall,
        missing=len(truth.keys() - states.keys()),
        reasons=dict(Counter(s.reason or NO_REVIEW_ITEM for s in waiting_now)),
        by_source=_figures(truth, states, lambda k: k[0]),
        by_age_band=(
            _figures(truth, states, lambda k: band_of.get(k, UNKNOWN_BAND))
            if bands is not None
            else {}
        ),
        as_at=as_at,
    )


def age_band(birth: dt.date | None, as_at: dt.date) -> str:
    """The band of someone born on `birth`, by age in whole years on `as_at`."""
    if birth is None:
        return UNKNOWN_BAND
    age = as_at.year - birth.year - ((as_at.month, as_at.day) < (birth.month, birth.day))
    return next((name for name, low, high in AGE_BANDS if low <= age <= high), OUTSIDE_BANDS)


def record_bands(
    truth: Mapping[RecordKey, str], births: Mapping[RecordKey, dt.date], as_at: dt.date
) -> dict[RecordKey, str]:
    """Give every record its true person's age band.

    Args:
        truth: record to the true person.
        births: record to the date of birth its source gave, where readable.
        as_at: the date ages are taken at.

    Returns:
        Record to band. A person's date of birth is the one most of their records give
        (sources make slips); on a tie, the one from the source first in load order
        (the NHS feed first), then the earliest.
    """
    from contactpoint.registry.feeds import SOURCES

    rank = {s: i for i, s in enumerate(SOURCES)}
    given: dict[str, list[tuple[str, dt.date]]] = defaultdict(list)
    for key, person in truth.items():
        if key in births:
            given[person].append((key[0], births[key]))
    born: dict[str, dt.date] = {}
    for person, dates in given.items():
        votes = Counter(d for _, d in dates)
        first = {d: min(rank.get(s, len(rank)) for s, e in dates if e == d) for d in votes}
        born[person] = min(votes, key=lambda d: (-votes[d], first[d], d))
    return {key: age_band(born.get(person), as_at) for key, person in truth.items()}


def read_truth(path: Path) -> dict[RecordKey, str]:
    """Read `source,record_id,child_key` rows from a file, or from every CSV in a folder."""
    return {(source, record): child for source, record, child in truth_rows(path)}


def truth_rows(path: Path) -> Iterator[tuple[str, str, str]]:
    """(source, record id, child key) of each row of read_truth's files, one at a time."""
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    for file in files:
        with file.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                yield row["source"], row["record_id"], row["child_key"]


def read_births(folder: Path, keys: Iterable[RecordKey]) -> dict[RecordKey, dt.date]:
    """Read the date of birth of each wanted record from the standard feed files in folder.

    Rows that are not wanted, or whose date is missing or unreadable, are skipped.
    """
    from contactpoint.registry.feeds import source_files

    wanted = set(keys)
    births: dict[RecordKey, dt.date] = {}
    for source, path in source_files(folder):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                key = (source, row.get("record_id") or "")
                if key in wanted and (birth := _iso_date(row.get("date_of_birth"))):
                    births[key] = birth
    return births


def births_for(folder: Path, keys: Iterable[RecordKey]) -> dict[RecordKey, dt.date]:
    """The date of birth of each wanted record: from the standard feed files in folder,
    else (a local system's mapped CSV or FHIR, which are not standard feeds) from the
    record as the registry holds it (registry_births)."""
    wanted = list(keys)
    births = read_births(folder, wanted)
    return births | registry_births(k for k in wanted if k not in births)


def registry_births(keys: Iterable[RecordKey]) -> dict[RecordKey, dt.date]:
    """The date of birth of each wanted record the registry holds, read from its sealed
    payload (opened, read and dropped: only the age band is kept). Records not loaded,
    without a date of birth, or whose key is destroyed (a purged child) are left out."""
    from contactpoint.registry import payloads
    from contactpoint.registry.children import ciphers_for
    from contactpoint.registry.models import SourceRecord
    from contactpoint.registry.sources import record_ref

    by_ref = {record_ref(source, record_id): (source, record_id) for source, record_id in keys}
    births: dict[RecordKey, dt.date] = {}
    for refs in _chunks(list(by_ref)):
        rows = list(
            SourceRecord.objects.filter(record_ref__in=refs).values_list(
                "id", "child_id", "record_ref", "payload"
            )
        )
        ciphers = ciphers_for({child or sr for sr, child, _, _ in rows})
        for sr, child, ref, payload in rows:
            cipher = ciphers.get(child or sr)
            body = payloads.open_payload(cipher, sr, payload) if cipher else None
            if body and (birth := _iso_date(json.loads(body).get("date_of_birth"))):
                births[by_ref[bytes(ref)]] = birth
    return births


def _iso_date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _chunks(values: list[Any], size: int = 2000) -> Iterable[list[Any]]:
    return (values[i : i + size] for i in range(0, len(values), size))


def registry_states(keys: Iterable[RecordKey]) -> dict[RecordKey, RecordState]:
    """Where the registry put each truth record that was loaded (never its sealed data)."""
    from contactpoint.registry.models import SourceRecord
    from contactpoint.registry.sources import record_ref

    by_ref = {record_ref(source, record_id): (source, record_id) for source, record_id in keys}
    states: dict[RecordKey, RecordState] = {}
    waiting_ids: dict[uuid.UUID, RecordKey] = {}
    for refs in _chunks(list(by_ref)):
        rows = SourceRecord.objects.filter(record_ref__in=refs)
        for sr_id, ref, child in rows.values_list("id", "record_ref", "child_id"):
            key = by_ref[bytes(ref)]
            states[key] = waiting() if child is None else linked(child)
            if child is None:
                waiting_ids[sr_id] = key
    for sr_id, (reason, candidates) in _open_reviews(list(waiting_ids)).items():
        states[waiting_ids[sr_id]] = waiting(reason, candidates)
    return states


def _open_reviews(record_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, set[uuid.UUID]]]:
    """Source record id to the reason and candidate children of its open review item."""
    from contactpoint.linkage.models import ReviewItem
    from contactpoint.linkage.review_items import abouts

    found: dict[uuid.UUID, tuple[str, set[uuid.UUID]]] = {}
    for ids in _chunks(record_ids):
        rows = ReviewItem.objects.filter(source_record_id__in=ids, status=ReviewItem.Status.OPEN)
        items = list(rows.only("id", "source_record", "about"))
        for item, opened in zip(items, abouts(items).values(), strict=True):
            found[item.source_record_id] = (opened.reason, opened.child_ids())
    return found
