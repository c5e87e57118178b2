"""The true synthetic population of one shard: households, carers and children.

Everything is numpy arrays, one element per household or per child; strings are object
arrays sampled by index from the embedded tables. Sources (feeds.py) then copy and spoil it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from contactpoint.synth import rates

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]

KINDS = tuple(rates.HOUSEHOLD_TYPES)
EPOCH = np.datetime64("1970-01-01", "D")
AS_AT_DAY = int((np.datetime64(rates.AS_AT) - EPOCH).astype(np.int64))
SEPT_DAY = int((np.datetime64(rates.ACADEMIC_YEAR_START) - EPOCH).astype(np.int64))


_np_where: Any = np.where


def where(cond: object, yes: object, no: object) -> ObjArray:
    """Return np.where(cond, yes, no) as an object array (numpy's stubs reject None here)."""
    return np.asarray(_np_where(cond, yes, no), dtype=object)


def day_number(date: str) -> int:
    """Return days since 1970-01-01 for an ISO date."""
    return int((np.datetime64(date, "D") - EPOCH).astype(np.int64))


@dataclass
class Address:
    """One address per household."""

    line1: ObjArray
    line2: ObjArray
    town: ObjArray
    postcode: ObjArray
    council: IntArray

    def take(self, rows: IntArray) -> Address:
        """Return the addresses at these rows."""
        return Address(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))


@dataclass
class Carers:
    """Up to two carers per household; carer 2 absent where given is None."""

    given: ObjArray  # [2, households]
    family: ObjArray
    relationship: ObjArray
    responsibility: ObjArray
    phone: ObjArray
    email: ObjArray


@dataclass
class Shard:
    """The true population of one shard."""

    index: int
    shard_size: int
    address: Address  # per household, current
    old_address: Address  # per household, where moved is True
    moved: BoolArray
    shielded: BoolArray
    kind: IntArray
    carers: Carers
    hh_cb: BoolArray  # household claims child benefit
    hh_social_care: BoolArray
    hh_state_school: BoolArray
    primary: IntArray  # organisation row index
    secondary: IntArray
    gp: IntArray
    # per child
    key: IntArray
    hh: IntArray
    sex: IntArray  # 0 male, 1 female
    dob: IntArray  # days since 1970-01-01
    given: ObjArray
    middle: ObjArray
    family: ObjArray  # the surname most sources hold
    nhs_family: ObjArray  # differs for recently adopted children
    step_family: ObjArray  # step-parent's surname, or None
    hyphenated: BoolArray
    twin: BoolArray
    nhs: IntArray
    nhs_new: IntArray  # new NHS number after adoption, else 0
    upn: ObjArray  # None under school age
    gp_start: IntArray
    nhs_registered: BoolArray

    def __len__(self) -> int:
        return len(self.key)

    @property
    def age(self) -> IntArray:
        """Whole years of age on the population's as-at date."""
        return np.asarray((AS_AT_DAY - self.dob) // 365.25, dtype=np.int64)

    @property
    def school_age(self) -> IntArray:
        """Age on 1 September of the census year: decides the school year group."""
        return np.asarray(np.floor((SEPT_DAY - self.dob) / 365.25), dtype=np.int64)


def rng_for(seed: int, shard: int, stream: int) -> np.random.Generator:
    """Return the generator for one shard and one purpose, derived from the seed."""
    return np.random.default_rng(np.random.SeedSequence([seed, stream, shard]))
