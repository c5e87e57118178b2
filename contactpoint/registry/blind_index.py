"""The blind indexes: which values are indexed, truncated to how many bits.

Sizing and what each index leaks are in docs/blind-indexes.md; change both together. Each
index has its own key, derived from the index root key with the index's name and version,
so equal values in two indexes give unrelated digests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
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


_SEP = "\x1f"  # between the parts of an indexed value


def digest(index: Index, *parts: str) -> int:
    """Return the blind index value of the normalised parts."""
    spec = SPECS[index]
    message = _SEP.join(parts).encode()
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


# Index numbers as plain ints, for the bulk path (an IntEnum's hash and equality cost more).
_SCHEMES = {"nhs_number": int(Index.NHS_NUMBER), "upn": int(Index.UPN)}
_BIRTH_DATE_FAMILY = int(Index.BIRTH_DATE_FAMILY)
_BIRTH_DATE_GIVEN = int(Index.BIRTH_DATE_GIVEN)
_DISTRICT_FAMILY = int(Index.DISTRICT_FAMILY)
_BIRTH_DATE_DISTRICT = int(Index.BIRTH_DATE_DISTRICT)


class Entries:
    """The blind index entries of many children, for a bulk load's chunk or a refresh.

    The same entries as `identifier_entries`, `name_entries` and `place_entries` give for
    every combination of a child's facts, made cheaper: each index's HMAC key is set up once
    (`crypto.DigestKey`), each distinct value is digested once and each distinct name's
    phonetic keys are computed once, however many records and children state them. What it
    remembers is kept only as long as the object, which the caller drops after its chunk.
    """

    def __init__(self) -> None:
        # By index number: its key, set up, and its bits; each message digested so far.
        self._keys = {
            int(index): (crypto.DigestKey(derived_key("blind-index/" + spec.name)), spec.bits)
            for index, spec in SPECS.items()
        }
        self._known: dict[int, dict[str, tuple[int, int]]] = {int(i): {} for i in SPECS}
        self._family: dict[str, set[str]] = {}
        self._given: dict[str, str] = {}

    def of_child(
        self,
        dates: Collection[str],
        districts: Collection[str],
        child_names: Collection[tuple[str, str]],
        identifiers: Collection[tuple[str, str]],
    ) -> set[tuple[int, int]]:
        """One child's entries (index number, value): those of each identifier, of each
        name with each date of birth and each district, and of each date of birth with each
        district.

        Args:
            dates: each ISO date of birth its records state.
            districts: each postcode district of its records' current addresses.
            child_names: each (given name, family name) its records state, current or former.
            identifiers: each (scheme, value) of its identifiers.
        """
        family: set[str] = set()
        given: set[str] = set()
        for given_name, family_name in child_names:
            family |= self._family_keys(family_name)
            if key := self._given_key(given_name):
                given.add(key)
        entries: set[tuple[int, int]] = set()
        add, entry = entries.add, self._entry
        for scheme, value in identifiers:
            add(entry(_SCHEMES[scheme], value))
        for iso in dates:
            for k in family:
                add(entry(_BIRTH_DATE_FAMILY, f"{iso}{_SEP}{k}"))
            for k in given:
                add(entry(_BIRTH_DATE_GIVEN, f"{iso}{_SEP}{k}"))
            for district in districts:
                add(entry(_BIRTH_DATE_DISTRICT, f"{iso}{_SEP}{district}"))
        for district in districts:
            for k in family:
                add(entry(_DISTRICT_FAMILY, f"{district}{_SEP}{k}"))
        return entries

    def _entry(self, index: int, message: str) -> tuple[int, int]:
        """(index, `digest(index, *parts)`) of a message: the parts joined as `digest`
        joins them."""
        known = self._known[index]
        if (found := known.get(message)) is None:
            key, bits = self._keys[index]
            found = known[message] = (index, key.truncated(message.encode(), bits))
        return found

    def _family_keys(self, family_name: str) -> set[str]:
        if (keys := self._family.get(family_name)) is None:
            keys = self._family[family_name] = names.family_name_keys(family_name)
        return keys

    def _given_key(self, given_name: str) -> str:
        if (key := self._given.get(given_name)) is None:
            key = self._given[given_name] = names.given_name_key(given_name)
        return key
