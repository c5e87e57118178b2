"""Choose the link and review thresholds from evidence, for a target precision.

The evidence is the model's own estimate: Splink scores every pair the bulk blocking
rules find among the records, and each pair's match probability is the model's belief
that it is one child. Among the pairs at or above a weight, the expected precision is
the sum of their probabilities over their count; the expected matches in all are the
sum over every pair. Where people have decided review items (a link, or not a match,
each with the weight the model gave it), those decisions are evidence too: the link
threshold is also kept where the decided pairs at or above it meet the target.

`upper` is the lowest weight whose expected precision meets the target, and never one
where a pair is less than MIN_LINK_PROBABILITY likely to be one child: the average hides
a band of doubtful pairs behind tens of thousands of certain ones, and the model is
surest exactly where its independence assumption fails (twins agree on everything but a
given name). `lower` is the
lowest weight below it that keeps the expected review share (pairs between the two,
over records) within its budget, and never a weight where fewer than one pair in twenty
is the child (MIN_REVIEW_PROBABILITY): a person would see nineteen strangers for one
match. The pairs are those the model's own blocking rules find (bulk linkage's).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa
from splink import DuckDBAPI, Linker

from contactpoint.linkage import training

STEP = 0.1  # weights are grouped in bins this wide; thresholds are bin edges
MIN_REVIEW_PROBABILITY = 0.05  # below this, 19 in 20 pairs put before a person are not one
MIN_LINK_PROBABILITY = 0.95  # below this, one pair in twenty linked alone would be wrong


@dataclass(frozen=True)
class Bin:
    weight: float  # the bin's lower edge
    pairs: int
    matches: float  # the sum of the pairs' match probabilities


@dataclass(frozen=True)
class Chosen:
    upper: float
    lower: float
    target: float
    precision: float  # expected, at and above upper
    recall: float  # expected share of the blocked matches at and above upper
    recall_with_review: float  # at and above lower
    review_share: float  # pairs between lower and upper, over records
    pairs: int
    records: int
    labelled: int  # decisions by people taken into account
    labelled_upper: float | None  # the link threshold those decisions alone allow

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def histogram(table: pa.Table, model: dict[str, Any]) -> list[Bin]:
    """Splink's predicted pairs among these records under this model, binned by weight."""
    return histogram_across([table], model)


def histogram_across(tables: Sequence[pa.Table], model: dict[str, Any]) -> list[Bin]:
    """histogram of the pairs across tables (one source's records each), or, with one
    table, among its records."""
    logging.getLogger("splink").setLevel(logging.WARNING)
    con = training.connect()
    db_api = DuckDBAPI(con)
    frames = [db_api.register(t, dataset_display_name=f"records_{n}") for n, t in enumerate(tables)]
    link_type = "link_only" if len(tables) > 1 else model.get("link_type", "dedupe_only")
    linker = Linker(frames, {**model, "link_type": link_type}, log_level=None)
    predicted = linker.inference.predict()
    rows = con.execute(
        f"SELECT floor(match_weight / {STEP}) AS b, count(*), sum(match_probability) "  # noqa: S608
        f"FROM {predicted.physical_name} GROUP BY b ORDER BY b"
    ).fetchall()
    return [Bin(round(b * STEP, 6), int(n), float(p)) for b, n, p in rows]


def choose(
    bins: Sequence[Bin],
    records: int,
    target: float,
    review_budget: float,
    labelled: Iterable[tuple[float, bool]] = (),
) -> Chosen:
    """The thresholds for a target precision (the module docstring says how).

    Args:
        bins: the model's predicted pairs, binned (histogram).
        records: how many records the pairs are among.
        target: the precision wanted at and above upper, such as 0.999.
        review_budget: the most pairs for review, as a share of records, such as 0.01.
        labelled: people's decisions as (weight, is the same child).
    """
    ordered = sorted(bins, key=lambda b: b.weight, reverse=True)
    total = sum(b.matches for b in ordered)
    edges, pairs, matches = _cumulative(ordered)
    meets = [w for w, n, p in zip(edges, pairs, matches, strict=True) if n and p / n >= target]
    upper = min(meets) if meets else (edges[0] + STEP if edges else 0.0)
    upper = max(upper, _edge_above(MIN_LINK_PROBABILITY))
    decided = sorted(labelled, reverse=True)
    by_people = _labelled_upper(decided, target)
    if by_people is not None:
        upper = max(upper, by_people)
    lower = _lower(edges, pairs, upper, records, review_budget)
    n_up, p_up = _at(edges, pairs, matches, upper)
    n_low, p_low = _at(edges, pairs, matches, lower)
    return Chosen(
        upper=upper,
        lower=lower,
        target=target,
        precision=p_up / n_up if n_up else 1.0,
        recall=p_up / total if total else 0.0,
        recall_with_review=p_low / total if total else 0.0,
        review_share=(n_low - n_up) / records if records else 0.0,
        pairs=sum(b.pairs for b in ordered),
        records=records,
        labelled=len(decided),
        labelled_upper=by_people,
    )


def _edge_above(probability: float) -> float:
    """The lowest bin edge whose weight means at least this match probability."""
    return math.ceil(math.log2(probability / (1 - probability)) / STEP) * STEP


def _cumulative(ordered: Sequence[Bin]) -> tuple[list[float], list[int], list[float]]:
    """Each bin's edge, with the pairs and the expected matches at or above it."""
    edges, pairs, matches = [], [], []
    n, p = 0, 0.0
    for b in ordered:
        n, p = n + b.pairs, p + b.matches
        edges.append(b.weight)
        pairs.append(n)
        matches.append(p)
    return edges, pairs, matches


def _at(edges: list[float], pairs: list[int], matches: list[float], w: float) -> tuple[int, float]:
    """Pairs and expected matches at or above weight w."""
    found = [(n, p) for e, n, p in zip(edges, pairs, matches, strict=True) if e >= w - 1e-9]
    return found[-1] if found else (0, 0.0)


def _labelled_upper(decided: list[tuple[float, bool]], target: float) -> float | None:
    """The lowest weight at and above which people's decisions meet the target (None with
    no decisions). Tried: each decided weight, and the bin edge just above each pair
    found not to be a match."""
    if not decided:
        return None
    above_misses = {(math.floor(w / STEP) + 1) * STEP for w, same in decided if not same}
    for candidate in sorted({w for w, _ in decided} | above_misses):
        above = [same for w, same in decided if w >= candidate]
        if not above or sum(above) / len(above) >= target:
            return candidate
    return None  # pragma: no cover: above the highest miss, only links remain


def _lower(
    edges: list[float], pairs: list[int], upper: float, records: int, budget: float
) -> float:
    """The lowest edge below upper whose review pairs stay within the budget and whose
    pairs are at least MIN_REVIEW_PROBABILITY likely to be one child."""
    floor = math.log2(MIN_REVIEW_PROBABILITY / (1 - MIN_REVIEW_PROBABILITY))
    at_upper = max((n for e, n in zip(edges, pairs, strict=True) if e >= upper - 1e-9), default=0)
    lower = upper
    for e, n in zip(edges, pairs, strict=True):
        if e >= upper or e < floor:
            continue
        if records and (n - at_upper) / records > budget:
            break
        lower = e
    return lower
