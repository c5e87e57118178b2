"""Splink's term-frequency adjustment, worked by hand for postcode and town: on an exact
match only, weight * (log2(u of the exact level) - log2(max(tf_l, tf_r, tf_minimum)))."""

from __future__ import annotations

import copy
import math
from typing import Any

from contactpoint.linkage.records import LinkRecord, from_canonical
from contactpoint.linkage.scorer import Scorer
from contactpoint.linkage.store import bootstrap_model

DOC: dict[str, Any] = {
    "given_name": "Amy",
    "family_name": "Khan",
    "date_of_birth": "2016-04-02",
    "postcode": "LS6 2AB",
    "town": "Leeds",
}
FREQUENCIES = {("postcode", "LS6 2AB"): 0.004, ("postcode", "LS6 2AD"): 0.00025}


def _model(minimum: float = 0.0) -> dict[str, Any]:
    """The bootstrap model (shipped without frequencies) with them on postcode and town,
    as training sets them."""
    model = copy.deepcopy(bootstrap_model())
    for comparison in model["comparisons"]:
        name, equal = comparison["output_column_name"], comparison["comparison_levels"][1]
        if name in ("postcode", "town"):
            equal.update(tf_adjustment_column=name, tf_adjustment_weight=1.0)
        if name == "postcode":
            equal.update(m_probability=0.5, u_probability=0.001, tf_minimum_u_value=minimum)
    return model


def _postcode_weight(scorer: Scorer, left: LinkRecord, right: LinkRecord) -> float:
    score = scorer.score(left, right)
    return next(c.weight for c in score.contributions if c.comparison == "postcode")


def _scorer(minimum: float = 0.0) -> Scorer:
    return Scorer(_model(minimum), lambda column, value: FREQUENCIES.get((column, value)))


def test_a_common_postcode_is_worth_less_and_a_rare_one_more() -> None:
    common = from_canonical("a", DOC)
    rare = from_canonical("b", {**DOC, "postcode": "LS6 2AD"})
    base = math.log2(0.5 / 0.001)
    # log2(0.001) - log2(0.004) = -2; log2(0.001) - log2(0.00025) = +2
    assert abs(_postcode_weight(_scorer(), common, common) - (base - 2)) < 1e-12
    assert abs(_postcode_weight(_scorer(), rare, rare) - (base + 2)) < 1e-12


def test_the_minimum_u_caps_how_rare_a_value_can_count() -> None:
    rare = from_canonical("b", {**DOC, "postcode": "LS6 2AD"})
    base = math.log2(0.5 / 0.001)
    # max(0.00025, 0.0005) = 0.0005: log2(0.001 / 0.0005) = +1
    assert abs(_postcode_weight(_scorer(0.0005), rare, rare) - (base + 1)) < 1e-12


def test_an_unseen_value_and_a_level_other_than_exact_are_not_adjusted() -> None:
    unseen = from_canonical("c", {**DOC, "postcode": "M1 1AA"})
    assert abs(_postcode_weight(_scorer(), unseen, unseen) - math.log2(500)) < 1e-12
    sector = from_canonical("d", {**DOC, "postcode": "LS6 2AZ"})
    common = from_canonical("a", DOC)
    plain = Scorer(_model())
    assert _postcode_weight(_scorer(), common, sector) == _postcode_weight(plain, common, sector)


def test_town_is_frequency_adjusted_when_the_postcodes_differ() -> None:
    model = _model()
    town = next(c for c in model["comparisons"] if c["output_column_name"] == "town")
    equal = town["comparison_levels"][1]
    assert equal["tf_adjustment_column"] == "town"
    u = float(equal["u_probability"])
    left = from_canonical("a", DOC)
    right = from_canonical("b", {**DOC, "postcode": "LS1 4AB"})
    tf = {("town", "leeds"): 4 * u}.get
    scored = Scorer(model, lambda c, v: tf((c, v))).score(left, right)
    weight = next(c.weight for c in scored.contributions if c.comparison == "town")
    assert abs(weight - (math.log2(float(equal["m_probability"]) / u) - 2)) < 1e-9
