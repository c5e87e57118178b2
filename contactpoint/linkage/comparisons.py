"""The linkage model's comparisons, each level stated twice: for Splink and in Python.

Splink trains the model and links in bulk from the Splink form; the in-process scorer
(scorer.py) decides real-time matches from the Python form. The two must agree on every
pair, which tests/linkage/test_parity.py proves against Splink's own scoring. Levels are
tried in order and the first that holds wins, as in Splink's SQL CASE.

Standardisation (nicknames, phonetic keys, the day/month swap, address abbreviations and
house numbers, declared identifiers as "scheme:value") is done beforehand in records.py,
so every level here is an exact match, an array intersection or membership, a
Damerau-Levenshtein distance of at most two, or a swap of two columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import jellyfish
import splink.comparison_level_library as cl
import splink.comparison_library as cll
from splink import block_on

from contactpoint.linkage.blocking import BLOCKING_RULES
from contactpoint.linkage.records import LinkRecord

Predicate = Callable[[LinkRecord, LinkRecord], bool]
LinkType = Literal["link_only", "dedupe_only"]


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


def _postcodes_equal(a: LinkRecord, b: LinkRecord) -> bool:
    return a.postcode is not None and a.postcode == b.postcode


def null_or_same_postcode(column: str) -> Level:
    """Missing, or not asked: with the postcode equal, the address line and the town add
    nothing (they move with it), so they are evidence only when the postcodes differ or
    one is missing. Counting them with the postcode would count one move three times."""

    def holds(a: LinkRecord, b: LinkRecord) -> bool:
        return _get(a, column) is None or _get(b, column) is None or _postcodes_equal(a, b)

    sql = f'"{column}_l" IS NULL OR "{column}_r" IS NULL OR ("postcode_l" = "postcode_r")'
    creator = cl.CustomLevel(sql).configure(is_null_level=True)
    return Level(f"{column} missing or postcode equal", holds, creator, is_null=True)


def null_unless_postcodes_differ(column: str) -> Level:
    """Missing, or not asked: the town is evidence only between two postcodes that differ
    (a move within the town, or a mistyped postcode). Beside a missing postcode it is too
    common a value to count alone (every record in London shares it)."""

    def holds(a: LinkRecord, b: LinkRecord) -> bool:
        differ = a.postcode is not None and b.postcode is not None and a.postcode != b.postcode
        return _get(a, column) is None or _get(b, column) is None or not differ

    sql = (
        f'"{column}_l" IS NULL OR "{column}_r" IS NULL OR "postcode_l" IS NULL '
        'OR "postcode_r" IS NULL OR ("postcode_l" = "postcode_r")'
    )
    creator = cl.CustomLevel(sql).configure(is_null_level=True)
    return Level(f"{column} missing or postcodes not different", holds, creator, is_null=True)


def null_or_other_postcode(column: str) -> Level:
    """Missing, or not asked: a house number says something only within one postcode (the
    same home, or a neighbour's); across postcodes the postcode comparison has said it."""

    def holds(a: LinkRecord, b: LinkRecord) -> bool:
        return _get(a, column) is None or _get(b, column) is None or not _postcodes_equal(a, b)

    sql = (
        f'"{column}_l" IS NULL OR "{column}_r" IS NULL OR "postcode_l" IS NULL '
        'OR "postcode_r" IS NULL OR ("postcode_l" <> "postcode_r")'
    )
    creator = cl.CustomLevel(sql).configure(is_null_level=True)
    return Level(f"{column} missing or postcode not equal", holds, creator, is_null=True)


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


def shared_many(column: str, least: int) -> Level:
    def holds(a: LinkRecord, b: LinkRecord) -> bool:
        left, right = _get(a, column), _get(b, column)
        return left is not None and right is not None and len(set(left) & set(right)) >= least

    creator = cl.ArrayIntersectLevel(column, least)
    return Level(f"{column} share {least}", holds, creator)


def one_edit(column: str, edits: int = 1) -> Level:
    def holds(a: LinkRecord, b: LinkRecord) -> bool:
        left, right = _get(a, column), _get(b, column)
        if left is None or right is None:
            return False
        return bool(jellyfish.damerau_levenshtein_distance(left, right) <= edits)

    label = f"{column} one edit apart" if edits == 1 else f"{column} {edits} edits apart"
    return Level(label, holds, cl.DamerauLevenshteinLevel(column, edits))


def names_swapped() -> Level:
    """Given and family name written in each other's places, on one side, each name as it
    is or one edit from it (a swap and a slip often come together in one careless entry)."""

    def holds(a: LinkRecord, b: LinkRecord) -> bool:
        names = (a.given_name, b.family_name, a.family_name, b.given_name)
        if any(n is None for n in names):
            return False
        given_l, family_r, family_l, given_r = (str(n) for n in names)
        return bool(
            jellyfish.damerau_levenshtein_distance(given_l, family_r) <= 1
            and jellyfish.damerau_levenshtein_distance(family_l, given_r) <= 1
        )

    return Level("given and family names swapped", holds, cl.CustomLevel(SWAPPED_SQL))


SWAPPED_SQL = (
    'damerau_levenshtein("given_name_l", "family_name_r") <= 1'
    ' AND damerau_levenshtein("family_name_l", "given_name_r") <= 1'
)


def given_is_middle() -> Level:
    """One record's given name is among the other's middle names ('Amy Rose' and 'Rose')."""

    def holds(a: LinkRecord, b: LinkRecord) -> bool:
        return (a.given_name is not None and a.given_name in (b.middle_names or ())) or (
            b.given_name is not None and b.given_name in (a.middle_names or ())
        )

    sql = (
        'coalesce(list_contains("middle_names_r", "given_name_l"), false) '
        'OR coalesce(list_contains("middle_names_l", "given_name_r"), false)'
    )
    return Level("given name is the other's middle name", holds, cl.CustomLevel(sql))


def swapped(column: str, swap: str) -> Level:
    def holds(a: LinkRecord, b: LinkRecord) -> bool:
        return (_get(a, column) is not None and _get(a, column) == _get(b, swap)) or (
            _get(a, swap) is not None and _get(a, swap) == _get(b, column)
        )

    sql = f'("{column}_l" = "{swap}_r") OR ("{swap}_l" = "{column}_r")'
    return Level(f"{column} day and month swapped", holds, cl.CustomLevel(sql))


def otherwise() -> Level:
    return Level("all other comparisons", lambda a, b: True, cl.ElseLevel())


def no_shared_scheme() -> Level:
    """Declared identifiers are evidence only between records with a scheme in common."""

    def holds(a: LinkRecord, b: LinkRecord) -> bool:
        return not set(a.identifier_schemes or ()) & set(b.identifier_schemes or ())

    sql = (
        '"identifier_schemes_l" IS NULL OR "identifier_schemes_r" IS NULL OR '
        'len(list_intersect("identifier_schemes_l", "identifier_schemes_r")) = 0'
    )
    creator = cl.CustomLevel(sql).configure(is_null_level=True)
    return Level("no identifier scheme shared", holds, creator, is_null=True)


def declared_identifiers(m_equal: float) -> Comparison:
    """Identifiers a mapping declares with a scheme (a council's person id, say): equal
    when the records share a scheme's value, other when they share a scheme but no value.
    Fixed m, as for national identifiers."""
    equal, other = shared("identifiers"), otherwise()
    equal = Level("identifiers equal", equal.holds, equal.splink)
    equal.splink.configure(m_probability=m_equal, fix_m_probability=True)
    other.splink.configure(m_probability=1 - m_equal, fix_m_probability=True)
    return Comparison("identifiers", (no_shared_scheme(), equal, other))


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
            names_swapped(),
            shared("given_nicknames"),
            one_edit("given_name"),
            given_is_middle(),
            exact("given_phonetic"),
            otherwise(),
        ),
    ),
    Comparison(
        "family_name",
        (
            null("family_name"),
            exact("family_name", tf=True),
            names_swapped(),
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
            exact("postcode", tf=True),
            exact("postcode_sector"),
            exact("postcode_district"),
            otherwise(),
        ),
    ),
    Comparison("sex", (null("sex"), exact("sex"), otherwise())),
    Comparison(
        "address_line",
        (
            null_or_same_postcode("address_line"),
            exact("address_line"),
            one_edit("address_line", 2),
            shared_many("address_tokens", 2),
            otherwise(),
        ),
    ),
    Comparison(
        "house_number",
        (null_or_other_postcode("house_number"), exact("house_number"), otherwise()),
    ),
    Comparison(
        "town",
        (
            null_unless_postcodes_differ("town"),
            exact("town", tf=True),
            one_edit("town"),
            otherwise(),
        ),
    ),
    declared_identifiers(0.98),
)

TF_COLUMNS = ("given_name", "family_name", "postcode", "town")

# Rules for EM: each leaves out the comparisons it blocks on, so together they train all.
TRAINING_BLOCKS = (
    block_on("dob"),
    block_on("given_phonetic", "family_phonetic"),
    block_on("nhs_number"),
)


def settings(prior: float = 1e-6, link_type: LinkType = "dedupe_only") -> dict[str, Any]:
    """The Splink settings for the untrained model, as a dictionary (`link_type`
    "link_only" to train across sources: training.train_across)."""
    from splink import SettingsCreator

    creator = SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        probability_two_random_records_match=prior,
        comparisons=[c.splink_comparison() for c in COMPARISONS],
        blocking_rules_to_generate_predictions=list(BLOCKING_RULES),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    return creator.create_settings_dict(sql_dialect_str="duckdb")
