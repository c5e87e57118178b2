"""Whether a model trained during a load may replace the active one.

A load of a source the active model was not trained with trains first (store.
trained_for_source). A model EM trained on data nobody looked at is adopted only when it
passes every check below; otherwise the load goes on with the model it had, and says why.
Each check is a way such a model has been seen to go wrong:

- **em**: every EM rule converged. A rule skipped because a level's m underflowed left
  the comparisons it trains at their starting values.
- **prior**: the expected matches the prior implies among the pairs across sources are
  more than none and at most PLAUSIBLE_EXCESS times the records of the smaller source:
  two systems' exports of one population hold about one record of a child each, so a
  prior that implies more counts brothers and sisters (or one family's records) as one.
- **direction**: in no comparison does the first level that is evidence (agreement)
  weigh more than NOISE against a match, nor the last (everything else) more than NOISE
  for one; a level EM never saw among matches (m at its floor) says nothing.
- **estimate**: the model's own expected precision at the link threshold chosen for the
  target meets it, and the expected matches over every pair the blocking rules find are
  at most PLAUSIBLE_EXCESS times the smaller source, as for the prior.
- **household**: made-up brothers (one family name, one address, different given names
  and birth dates) score at least realtime.MARGIN below the link threshold (a runner-up
  that close sends a record to review). A model that has learned that an address is
  identity fails here before it links a single real child. Brothers may still fall in
  the review band: that costs a person's time, not a wrong link. Where the records hold
  twins (twins_within), made-up twins (the same, born on one day) score under the link
  threshold too: the twin rule catches a twin pair only when everything but the given
  name agrees exactly, and twins whose postcode or family name one system mistyped are
  linked by a model that weighs a different given name lightly.

The checks read the model and counts only: no record is kept or shown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa

from contactpoint.linkage import realtime
from contactpoint.linkage.records import LinkRecord, from_canonical
from contactpoint.linkage.scorer import Scorer
from contactpoint.linkage.thresholds import Bin, Chosen
from contactpoint.linkage.training import M_FLOOR, Trained

# How many expected matches, per record of the smaller source, are still plausible.
PLAUSIBLE_EXCESS = 1.25
# The fewest records of every source for their holding no twins to say the population
# has none (about one child in seventy is a twin: a thousand children hold about seven
# pairs), and so for the twin rule to be set aside (twins_within).
TWIN_EVIDENCE_MIN = 1000
# Bits a level may weigh the wrong way before the direction check calls it wrong: a level
# that barely tells matches from strangers may land either side of zero.
NOISE = 1.0

_HOME = {"family_name": "Whitfield", "postcode": "LS6 2QT", "town": "Leeds"}
_HOME_LINE = {"address_line1": "14 Brudenell Grove"}
# Made-up brothers of one household: (given name, date of birth). Brothers, and no sex
# given, so that only names, birth dates and the address are weighed.
_OLDER = ("Oliver", "2014-03-09")
_YOUNGER = ("Thomas", "2017-11-22")
_TWIN = ("Harry", "2014-03-09")


@dataclass(frozen=True)
class Verdict:
    adopted: bool
    failures: tuple[str, ...]
    expected_matches: float  # over every pair the blocking rules find
    smaller_source: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check(
    trained: Trained,
    chosen: Chosen,
    bins: Sequence[Bin],
    sizes: Sequence[int],
    twin_rule: bool = True,
) -> Verdict:
    """Every check of the module docstring on a model trained across sources.

    Args:
        trained: the model and its figures (training.train_across).
        chosen: the thresholds chosen for it (thresholds.choose).
        bins: its predicted pairs across the sources, binned (thresholds.histogram_across).
        sizes: the records of each source it was trained on.
        twin_rule: whether the records hold twins (twins_within): then made-up twins
            must score under the link threshold too.

    Returns:
        Whether it may be adopted, and which checks failed (by name and why, no data).
    """
    smaller = min(sizes) if sizes else 0
    expected = sum(b.matches for b in bins)
    failures = [
        *_em(trained),
        *_prior(trained, sizes, smaller),
        *_direction(trained.model),
        *_estimate(chosen, expected, smaller),
        *_household(trained.model, chosen, twin_rule),
    ]
    return Verdict(not failures, tuple(failures), expected, smaller)


def _em(trained: Trained) -> list[str]:
    skipped = trained.figures.get("em_skipped") or []
    return [f"em: EM on {rule} did not converge" for rule in skipped]


def _prior(trained: Trained, sizes: Sequence[int], smaller: int) -> list[str]:
    total = sum(sizes)
    across = (total * total - sum(n * n for n in sizes)) / 2
    implied = float(trained.model["probability_two_random_records_match"]) * across
    if implied <= 0 or implied > PLAUSIBLE_EXCESS * smaller:
        return [f"prior: implies {implied:,.0f} matches for {smaller:,} records"]
    return []


def _direction(model: dict[str, Any]) -> list[str]:
    wrong = []
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        name = comparison["output_column_name"]
        first, last = levels[0], levels[-1]
        # A level EM never saw among matches sits at the floor: no finding either way.
        seen = float(first["m_probability"]) > M_FLOOR
        if seen and _weight(first) < -NOISE:
            wrong.append(f"direction: {name} agreeing weighs against")
        if _weight(last) > NOISE:
            wrong.append(f"direction: {name} differing weighs for")
    return wrong


def _weight(level: dict[str, Any]) -> float:
    return math.log2(float(level["m_probability"]) / float(level["u_probability"]))


def _estimate(chosen: Chosen, expected: float, smaller: int) -> list[str]:
    failures = []
    if chosen.precision < chosen.target:
        failures.append(
            f"estimate: precision {chosen.precision:.4f} at the link threshold, "
            f"under {chosen.target}"
        )
    if expected > PLAUSIBLE_EXCESS * smaller:
        failures.append(f"estimate: {expected:,.0f} expected matches for {smaller:,} records")
    return failures


def _child(unique_id: str, who: tuple[str, str]) -> LinkRecord:
    given, born = who
    doc = {**_HOME, **_HOME_LINE, "given_name": given, "date_of_birth": born}
    return from_canonical(unique_id, doc)


def twins_within(tables: Sequence[pa.Table]) -> int:
    """Twin-like pairs (realtime.twin_like, with the family name equal too) of records of
    one source: two children of one household born on one day, as no system registers one
    child twice under two different given names. None in thousands of records of every
    source says the population holds no twins, and a twin-like pair across sources is then
    one child with a mistyped given name (store.trained_for_source sets the rule aside)."""
    found = 0
    for table in tables:
        groups: dict[tuple[str, str, str], list[LinkRecord]] = {}
        for row in table.to_pylist():
            if row["dob"] and row["postcode"] and row["family_name"] and row["given_name"]:
                key = (row["dob"], row["postcode"], row["family_name"])
                groups.setdefault(key, []).append(LinkRecord(**row))
        for group in groups.values():
            found += sum(
                1
                for n, left in enumerate(group)
                for right in group[n + 1 :]
                if realtime.twin_like(left, right)
            )
    return found


def _household(model: dict[str, Any], chosen: Chosen, twin_rule: bool) -> list[str]:
    scorer = Scorer(model)
    older = _child("a", _OLDER)
    failures = []
    brothers = scorer.score(older, _child("b", _YOUNGER)).weight
    if brothers >= chosen.upper - realtime.MARGIN:
        failures.append(
            f"household: brothers score {brothers:.1f}, within {realtime.MARGIN:.0f} "
            f"of the link threshold {chosen.upper:.1f}"
        )
    twins = scorer.score(older, _child("c", _TWIN)).weight
    if twin_rule and twins >= chosen.upper:
        failures.append(
            f"household: twins score {twins:.1f}, at or over the link threshold "
            f"{chosen.upper:.1f}, where the records hold twins"
        )
    return failures
