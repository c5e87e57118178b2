"""Every rate the generator uses, in one place. docs/feeds.md lists them for readers.

Population rates describe the synthetic children; error rates describe how each source
gets them wrong. Error rates are per row of that source unless the comment says otherwise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

FORMAT = "contactpoint-synth/1"
SHARD_SIZE = 250_000  # children per shard: fixes the output whatever the worker count
AS_AT = dt.date(2025, 9, 1)  # the population is true on this date
ACADEMIC_YEAR_START = dt.date(2024, 9, 1)  # school census year for school phase and age

SOURCES: tuple[str, ...] = (
    "school_census",
    "nhs_demographics",
    "child_benefit",
    "council_social_care",
    "youth_offending",
)
SOURCE_AS_AT: dict[str, dt.date] = {
    "school_census": dt.date(2025, 5, 15),  # summer census
    "nhs_demographics": dt.date(2025, 8, 31),
    "child_benefit": dt.date(2025, 7, 31),
    "council_social_care": dt.date(2025, 8, 29),
    "youth_offending": dt.date(2025, 8, 15),
}
RECORD_PREFIX: dict[str, str] = {
    "school_census": "SC",
    "nhs_demographics": "PDS",
    "child_benefit": "CB",
    "council_social_care": "CSC",
    "youth_offending": "YOT",
}

# --- population ---------------------------------------------------------------------------
# Household types and their share of households with children (ONS families and
# households; DfE children looked after; kinship care estimates).
HOUSEHOLD_TYPES: dict[str, float] = {
    "couple": 0.615,
    "lone_mother": 0.215,
    "lone_father": 0.025,
    "step": 0.115,
    "grandparent": 0.012,
    "foster": 0.009,
    "special_guardian": 0.004,
    "adoptive": 0.005,
}
CHILDREN_PER_HOUSEHOLD = (0.42, 0.39, 0.13, 0.045, 0.015)  # 1, 2, 3, 4, 5 children
TWIN_RATE = (
    0.033  # chance a younger sibling is the twin of the one before: ~3% of children are twins
)
BOY_SHARE = 0.513
MIDDLE_NAME_RATE = 0.72
SECOND_MIDDLE_NAME_RATE = 0.08
MIXED_ORIGIN_RATE = 0.06  # households whose children's given names come from another origin
COHABITING_DIFFERENT_SURNAME = 0.30  # couples where the mother kept her own surname
HYPHENATED_RATE = 0.035  # children given both parents' surnames, hyphenated
STEP_MARRIED_RATE = 0.6  # step families where the mother took the step-parent's surname
FATHER_WITHOUT_PR = 0.05  # unmarried fathers not on the birth certificate
RECENTLY_ADOPTED = 0.3  # of children in adoptive households: new name and NHS number
SHIELDED_RATE = 0.005  # NHS S-flag, by household
MOVED_RATE = 0.06  # households that moved in the last year: sources may hold the old address
MOVED_OTHER_COUNCIL = 0.25
FLAT_RATE = 0.15  # addresses with a flat line

# --- coverage -------------------------------------------------------------------------------
NHS_COVERAGE = 0.98
SCHOOL_COVERAGE_4_15 = 0.95  # state schools; the rest are independent or home educated
SCHOOL_COVERAGE_16_17 = 0.55  # most 16-17s are in further-education colleges, not the census
CHILD_BENEFIT_COVERAGE = 0.885  # by household: high-income opt-outs; never for foster care
CB_NEWBORN_MISSING = 0.35  # babies under six months whose claim has not arrived yet
NHS_NEWBORN_MISSING = 0.03
SOCIAL_CARE_HOUSEHOLD_RATE = 0.028  # households known to children's social care
YOT_RATE_10_17 = 0.003  # of children aged 10-17; older boys far more often
SCHOOL_CARER_RATE = 0.6  # school census rows that carry a contact carer


@dataclass(frozen=True)
class ErrorRates:
    """How one source gets a child wrong; each rate is the chance per row."""

    given_typo: float
    family_typo: float
    nickname: float  # given name replaced by a known nickname or spelling variant
    hyphen_variant: float  # of hyphenated surnames: written another way
    step_surname: float  # of step-family children: recorded under the step-parent's surname
    former_name_given: float  # of those: former_family_name filled with the birth surname
    dob_swap: float  # day and month swapped (only possible when the day is 12 or less)
    dob_off: float  # one day or one digit off
    stale_address: float  # of households that moved: this source still has the old address
    missing_nhs: float
    missing_upn: float
    transposed_id: float  # two adjacent digits swapped: fails the check digit
    other_childs_id: float  # another child's valid number
    sex_wrong: float
    malformed: float  # rows the loader must quarantine


ERRORS: dict[str, ErrorRates] = {
    "school_census": ErrorRates(
        given_typo=0.004,
        family_typo=0.004,
        nickname=0.03,
        hyphen_variant=0.25,
        step_surname=0.5,
        former_name_given=0.4,
        dob_swap=0.002,
        dob_off=0.002,
        stale_address=0.5,
        missing_nhs=1.0,
        missing_upn=0.005,
        transposed_id=0.001,
        other_childs_id=0.0002,
        sex_wrong=0.0005,
        malformed=0.0005,
    ),
    "nhs_demographics": ErrorRates(
        given_typo=0.002,
        family_typo=0.002,
        nickname=0.005,
        hyphen_variant=0.1,
        step_surname=0.2,
        former_name_given=0.5,
        dob_swap=0.0005,
        dob_off=0.0005,
        stale_address=0.3,
        missing_nhs=0.0,
        missing_upn=1.0,
        transposed_id=0.0,
        other_childs_id=0.0,
        sex_wrong=0.0002,
        malformed=0.0005,
    ),
    "child_benefit": ErrorRates(
        given_typo=0.006,
        family_typo=0.005,
        nickname=0.02,
        hyphen_variant=0.2,
        step_surname=0.3,
        former_name_given=0.2,
        dob_swap=0.002,
        dob_off=0.002,
        stale_address=0.35,
        missing_nhs=1.0,
        missing_upn=1.0,
        transposed_id=0.0,
        other_childs_id=0.0,
        sex_wrong=0.0005,
        malformed=0.0005,
    ),
    "council_social_care": ErrorRates(
        given_typo=0.01,
        family_typo=0.008,
        nickname=0.08,
        hyphen_variant=0.3,
        step_surname=0.5,
        former_name_given=0.6,
        dob_swap=0.004,
        dob_off=0.003,
        stale_address=0.15,
        missing_nhs=0.3,
        missing_upn=1.0,
        transposed_id=0.003,
        other_childs_id=0.0005,
        sex_wrong=0.001,
        malformed=0.0005,
    ),
    "youth_offending": ErrorRates(
        given_typo=0.015,
        family_typo=0.01,
        nickname=0.12,
        hyphen_variant=0.3,
        step_surname=0.5,
        former_name_given=0.5,
        dob_swap=0.005,
        dob_off=0.004,
        stale_address=0.1,
        missing_nhs=0.6,
        missing_upn=0.6,
        transposed_id=0.003,
        other_childs_id=0.0005,
        sex_wrong=0.001,
        malformed=0.0005,
    ),
}
