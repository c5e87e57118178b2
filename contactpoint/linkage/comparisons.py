"""The linkage model's comparisons, each level stated twice: for Splink and in Python.

Splink trains the model and links in bulk from the Splink form; the in-process scorer
(scorer.py) decides real-time matches from the Python form. The two must agree on every
pair, which tests/linkage/test_parity.py proves against Splink's own scoring. Levels are
tried in order and the first that holds wins, as in Splink's SQL CASE.

Standardisation (nicknames, phonetic keys, the day/month swap) is done beforehand in
records.py, so every level here is an exact match, an array intersection, a
Damerau-Levenshtein distance of at most one, or a swap of two columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jellyfish
import splink.comparison_level_library as cl
import splink.comparison_library as cll
from splink import block_on

from contactpoint.linkage.blocking import BLOCKING_RULES
from contactpoint.linkage.records import LinkRecord

Predicate = Callable[[LinkRecord, LinkRecord], bool]


@dataclass(frozen=True)
class Level:
    label: str
    holds: Predicate
    splink: Any  # a Splink ComparisonLevelCreator
    is_null: bool = False
    tf_column: str | None = None


@dataclass(frozen=True)
class Comparison:
    name: str
    levels: tuple[Level, ...]

    def level_of(self, left: LinkRecord, right: LinkRecord) -> int:
        """The index of the first level that holds (the last is the else level)."""
        for n, level in enumerate(self.levels):
            if level.holds(left, right):
                return n
        raise AssertionError("a comparison must end with an else level")  # pragma: no cover

    def splink_comparison(self) -> Any:
        levels = [lvl.splink.configure(label_for_charts=lvl.label) for lvl in self.levels]
        return cll.CustomComparison(levels, output_column_name=self.name)


def _get(record: LinkRecord, column: str) -> Any:
    return getattr(record, column)


def null(column: str) -> Level:
    def holds(a: LinkRecord, b: LinkRecord) -> bool:
        return _get(a, column) is None or _get(b, column) is None

    return Level(f"{column} missing", holds, cl.NullLevel(column), is_null=True)


def exact(column: str, tf: bool = False) -> Level:
    def holds(a: LinkRecord, b: LinkRecord) -> bool:
        return bool(_get(a, column) == _get(b, column))

    creator = cl.ExactMatchLevel(column, term_frequency_adjustments=tf)
    return Level(f"{column} equal", holds, creator, tf_column=column if tf else None)


def shared(column: str) -> Level:
    def holds(a: LinkRecord, b: LinkRecord) -> bool:
        left, right = _get(a, column), _get(b, column)
        return left is not None and right is not None and bool(set(left) & set(right))

    return Level(f"{column} share one", holds, cl.ArrayIntersectLevel(column, 1))


def one_edit(column: str) -> Level:
    def holds(a: LinkRecord, b: LinkRecord) -> bool:
        left, right = _get(a, column), _get(b, column)
        if left is None or right is None:
            return False
        return bool(jellyfish.damerau_levenshtein_distance(left, right) <= 1)

    return Level(f"{column} one edit apart", holds, cl.DamerauLevenshteinLevel(column, 1))


def swapped(column: str, swap: str) -> Level:
    def holds(a: LinkRecord, b: LinkRecord) -> bool:
        return (_get(a, column) is not None and _get(a, column) == _get(b, swap)) or (
            _get(a, swap) is not None and _get(a, swap) == _get(b, column)
        )

    sql = f'("{column}_l" = "{swap}_r") OR ("{swap}_l" = "{column}_r")'
    return Level(f"{column} day and month swapped", holds, cl.CustomLevel(sql))


def otherwise() -> Level:
    return Level("all other comparisons", lambda a, b: True, cl.ElseLevel())


def identifier(column: str, m_equal: float) -> Comparison:
    """A valid identifier: fixed m, because two different valid numbers for one child are
    rare errors (invalid ones never get here), so a difference is strong evidence against;
    EM, misled by twins, would learn otherwise."""
    equal, other = exact(column), otherwise()
    equal.splink.configure(m_probability=m_equal, fix_m_probability=True)
    other.splink.configure(m_probability=1 - m_equal, fix_m_probability=True)
    return Comparison(column, (null(column), equal, other))


COMPARISONS: tuple[Comparison, ...] = (
    identifier("nhs_number", 0.999),
    identifier("upn", 0.995),
    Comparison(
        "given_name",
        (
            null("given_name"),
            exact("given_name", tf=True),
            shared("given_nicknames"),
            one_edit("given_name"),
            exact("given_phonetic"),
            otherwise(),
        ),
    ),
    Comparison(
        "family_name",
        (
            null("family_name"),
            exact("family_name", tf=True),
            shared("family_tokens"),
            one_edit("family_name"),
            exact("family_phonetic"),
            otherwise(),
        ),
    ),
    Comparison(
        "dob",
        (
            null("dob"),
            exact("dob"),
            swapped("dob", "dob_swapped"),
            one_edit("dob"),
            exact("birth_year"),
            otherwise(),
        ),
    ),
    Comparison(
        "postcode",
        (
            null("postcode"),
            exact("postcode"),
            exact("postcode_sector"),
            exact("postcode_district"),
            otherwise(),
        ),
    ),
    Comparison("sex", (null("sex"), exact("sex"), otherwise())),
)

TF_COLUMNS = ("given_name", "family_name")

# Rules for EM: each leaves out the comparisons it blocks on, so together they train all.
TRAINING_BLOCKS = (
    block_on("dob"),
    block_on("given_phonetic", "family_phonetic"),
    block_on("nhs_number"),
)


def settings(prior: float = 1e-6) -> dict[str, Any]:
    """The Splink settings for the untrained model, as a dictionary."""
    from splink import SettingsCreator

    creator = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=prior,
        comparisons=[c.splink_comparison() for c in COMPARISONS],
        blocking_rules_to_generate_predictions=list(BLOCKING_RULES),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    return creator.create_settings_dict(sql_dialect_str="duckdb")
