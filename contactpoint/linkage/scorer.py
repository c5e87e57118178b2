"""Score a pair of records in process with a trained model, as Splink would.

A match weight is the prior's log-odds plus, for each comparison, the log2 Bayes factor
of the level that holds, plus Splink's term-frequency adjustment on an exact match of a
rare or common value: weight * (log2(u_exact) - log2(max(tf_l, tf_r, tf_min))).
tests/linkage/test_parity.py checks every figure against Splink's own scoring.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contactpoint.linkage.comparisons import COMPARISONS, Comparison
from contactpoint.linkage.records import LinkRecord

M_U_CLAMP_MIN = 1e-300  # Splink's floor for m and u, so a zero never gives log2(0)

# A value's term frequency, or None when the value was not seen in training.
TermFrequency = Callable[[str, str], float | None]


class ModelMismatch(Exception):
    """The saved model's comparisons are not the ones this code knows how to score."""


@dataclass(frozen=True)
class ScoredLevel:
    weight: float
    tf_column: str | None = None
    tf_weight: float = 1.0
    tf_minimum: float = 0.0
    u_exact: float | None = None  # u of the exact-match level its tf adjustment is based on


@dataclass(frozen=True)
class Contribution:
    comparison: str
    level: str
    weight: float


@dataclass(frozen=True)
class Score:
    weight: float
    contributions: tuple[Contribution, ...]

    @property
    def probability(self) -> float:
        return probability(self.weight)


def probability(weight: float) -> float:
    if weight >= 0:
        return 1.0 / (1.0 + math.pow(2.0, -weight))
    return math.pow(2.0, weight) / (1.0 + math.pow(2.0, weight))


def _level_weight(level: Mapping[str, Any]) -> float:
    if level.get("is_null_level"):
        return 0.0
    m = max(float(level["m_probability"]), M_U_CLAMP_MIN)
    u = max(float(level["u_probability"]), M_U_CLAMP_MIN)
    return math.log2(m / u)


def _scored_levels(spec: Comparison, saved: Mapping[str, Any]) -> tuple[ScoredLevel, ...]:
    levels = saved["comparison_levels"]
    if len(levels) != len(spec.levels) or any(
        lv.get("label_for_charts") != mine.label
        for lv, mine in zip(levels, spec.levels, strict=True)
    ):
        raise ModelMismatch(f"comparison {spec.name} has different levels in the saved model")
    scored = []
    for lv in levels:
        tf_column = lv.get("tf_adjustment_column")
        # Splink bases the adjustment on the u of the exact match of the same column; our
        # comparisons put frequencies only on exact levels (comparisons.exact), so that is
        # the level's own u.
        u_exact = float(lv["u_probability"]) if tf_column else None
        scored.append(
            ScoredLevel(
                weight=_level_weight(lv),
                tf_column=tf_column,
                tf_weight=float(lv.get("tf_adjustment_weight", 1.0)),
                tf_minimum=float(lv.get("tf_minimum_u_value", 0.0)),
                u_exact=u_exact,
            )
        )
    return tuple(scored)


class Scorer:
    """A trained model, ready to score pairs without Splink."""

    def __init__(self, model: Mapping[str, Any], tf: TermFrequency | None = None) -> None:
        saved = {c["output_column_name"]: c for c in model["comparisons"]}
        if set(saved) != {c.name for c in COMPARISONS}:
            raise ModelMismatch("the saved model compares different columns")
        self.prior = float(model["probability_two_random_records_match"])
        self.prior_weight = math.log2(self.prior / (1 - self.prior))
        self.levels = {c.name: _scored_levels(c, saved[c.name]) for c in COMPARISONS}
        self.tf = tf or (lambda column, value: None)

    def _tf_adjustment(self, level: ScoredLevel, left: LinkRecord, right: LinkRecord) -> float:
        if level.tf_column is None or level.u_exact is None:
            return 0.0
        tfs = [
            f
            for r in (left, right)
            if (v := getattr(r, level.tf_column)) is not None
            and (f := self.tf(level.tf_column, v)) is not None
        ]
        if not tfs:
            return 0.0
        return level.tf_weight * (math.log2(level.u_exact) - math.log2(max(*tfs, level.tf_minimum)))

    def score(self, left: LinkRecord, right: LinkRecord) -> Score:
        """Score one pair: its match weight and what each comparison added to it."""
        total = self.prior_weight
        parts = []
        for spec in COMPARISONS:
            n = spec.level_of(left, right)
            level = self.levels[spec.name][n]
            weight = level.weight + self._tf_adjustment(level, left, right)
            total += weight
            parts.append(Contribution(spec.name, spec.levels[n].label, weight))
        return Score(total, tuple(parts))
