"""Bulk blocking: which pairs of records Splink scores (docs/linkage.md has the report).

Each rule is a join on keys that a true pair still shares when one field of one record is
wrong, so that together they reach the right child through one error in any single field:

| error in one record | rules that still pair it |
|---|---|
| a typo in the given name, or none | birth date + family name (sexes agree or one missing) |
| a typo in the family name, or a new one | birth date + given name |
| a wrong day (a digit, or two swapped) | year and month + both names |
| a wrong month | year and day + both names |
| a wrong year (a digit, or off by one) | month and day + both names |
| day and month swapped | birth date against its swap + both names |
| given and family name swapped | birth date + each name against the other |
| both names misspelt beyond their sounds | birth date + postcode district |
| no birth date | postcode district + both names |
| a missing or foreign postcode | every rule with the birth date |

Names are compared by their NYSIIS keys. Each rule's pairs are scored once, whichever rule
found them first. Real-time matching finds candidates through the blind indexes instead
(realtime.py), with the same error variants.
"""

from __future__ import annotations

from typing import Any

from splink import block_on
from splink.blocking_rule_library import CustomRule

BOTH_NAMES = ("given_phonetic", "family_phonetic")

BLOCKING_RULES: tuple[Any, ...] = (
    block_on("nhs_number"),
    block_on("upn"),
    # A typo in the given name (or none): birth date and family name, where the sexes agree
    # or either is missing. At national scale most of this rule's pairs are strangers born
    # on one day with one family name, and half of those are a boy and a girl; a record
    # with its sex wrong as well still meets its child by the given name's rules.
    CustomRule(
        'l."dob" = r."dob" AND l."family_phonetic" = r."family_phonetic"'
        ' AND (l."sex" = r."sex" OR l."sex" IS NULL OR r."sex" IS NULL)'
    ),
    block_on("dob", "given_phonetic"),
    # One digit of the date of birth wrong, both names right. Together these three are a
    # twelfth and a thirtieth the size of one "birth year and both names" rule, which
    # at national scale made half of all pairs, and lose only pairs whose day and month
    # are both wrong (a swap has its own rule).
    block_on("substr(dob, 1, 7)", *BOTH_NAMES),
    block_on("substr(dob, 1, 5) || substr(dob, 9, 2)", *BOTH_NAMES),
    block_on("substr(dob, 6, 5)", *BOTH_NAMES),
    # Day and month swapped, or given and family name swapped: each record's keys against
    # the other's swapped keys, everything else equal (each is one pair however the two
    # records are ordered).
    CustomRule(
        'l."dob" = r."dob_swapped" AND l."given_phonetic" = r."given_phonetic"'
        ' AND l."family_phonetic" = r."family_phonetic"'
    ),
    CustomRule(
        'l."dob" = r."dob" AND l."given_phonetic" = r."family_phonetic"'
        ' AND l."family_phonetic" = r."given_phonetic"'
    ),
    # A record without a date of birth (or with it wrong beyond one digit) meets the
    # records with both its names in its postcode district. Both names alone would pair
    # it with about 500 records at national scale, each without a date.
    block_on("postcode_district", *BOTH_NAMES),
    # Both names misspelt (a slip in each, or a swap and a slip): the birth date in the
    # postcode district, about a child a district at national scale.
    block_on("dob", "postcode_district"),
    block_on("postcode", "given_phonetic"),
)


def settings_rules() -> list[dict[str, Any]]:
    """BLOCKING_RULES as Splink settings hold them (blocking_rules_to_generate_predictions)."""
    return [rule.create_blocking_rule_dict("duckdb") for rule in BLOCKING_RULES]
