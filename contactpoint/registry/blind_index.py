"""The blind indexes: which values are indexed, truncated to how many bits.

Sizing and what each index leaks are in docs/blind-indexes.md; change both together. Each
index has its own key, derived from the index root key with the index's name and version,
so equal values in two indexes give unrelated digests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto, names
from contactpoint.lib.identifiers import Postcode


class Index(IntEnum):
    NHS_NUMBER = 1
    UPN = 2
    BIRTH_DATE_FAMILY = 3
    BIRTH_DATE_GIVEN = 4
    DISTRICT_FAMILY = 5
    BIRTH_DATE_DISTRICT = 6


@dataclass(frozen=True)
class IndexSpec:
    index: Index
    bits: int
    name: str


SPECS: dict[Index, IndexSpec] = {
    spec.index: spec
    for spec in (
        IndexSpec(Index.NHS_NUMBER, 22, "nhs_number/v1"),
        IndexSpec(Index.UPN, 22, "upn/v1"),
        IndexSpec(Index.BIRTH_DATE_FAMILY, 20, "birth_date+family_phonetic/v1"),
        IndexSpec(Index.BIRTH_DATE_GIVEN, 20, "birth_date+given_phonetic/v1"),
        IndexSpec(Index.DISTRICT_FAMILY, 18, "postcode_district+family_phonetic/v1"),
        IndexSpec(Index.BIRTH_DATE_DISTRICT, 21, "birth_date+postcode_district/v1"),
    )
}


def digest(index: Index, *parts: str) -> int:
    """Return the blind index value of the normalised parts."""
    spec = SPECS[index]
    message = "\x1f".join(parts).encode()
    return crypto.truncated_mac(derived_key("blind-index/" + spec.name), message, spec.bits)


def identifier_entries(scheme: str, value: str) -> set[tuple[Index, int]]:
    index = Index.NHS_NUMBER if scheme == "nhs_number" else Index.UPN
    return {(index, digest(index, value))}


def name_entries(
    given_name: str, family_name: str, birth_date: dt.date | None, postcode: Postcode | None
) -> set[tuple[Index, int]]:
    """Entries for one name of a child, with their date of birth and current postcode."""
    entries: set[tuple[Index, int]] = set()
    family_keys = names.family_name_keys(family_name)
    given_key = names.given_name_key(given_name)
    if birth_date is not None:
        iso = birth_date.isoformat()
        entries |= {
            (Index.BIRTH_DATE_FAMILY, digest(Index.BIRTH_DATE_FAMILY, iso, k)) for k in family_keys
        }
        if given_key:
            entries.add((Index.BIRTH_DATE_GIVEN, digest(Index.BIRTH_DATE_GIVEN, iso, given_key)))
    if postcode is not None:
        entries |= {
            (Index.DISTRICT_FAMILY, digest(Index.DISTRICT_FAMILY, postcode.district, k))
            for k in family_keys
        }
    return entries


def place_entries(birth_date: dt.date, district: str) -> set[tuple[Index, int]]:
    """The entry for a child born on this date living in this postcode district: how a
    search by family name and postcode finds a child whose family name is misspelt (the
    family-name keys change with the spelling). Written for every child; read by search
    only, not by linkage blocking."""
    index = Index.BIRTH_DATE_DISTRICT
    return {(index, digest(index, birth_date.isoformat(), district))}
