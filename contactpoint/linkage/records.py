"""The linkage view of a source record: standardised columns, computed in Python.

All standardisation happens here, before Splink or the in-process scorer sees a record, so
both compare exactly the same values and the comparisons themselves stay simple
(docs/linkage.md). A value that is not evidence (a placeholder name, an invalid
identifier, sex 'U') is None, and None is never evidence for or against a match.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from contactpoint.lib import dates, names
from contactpoint.lib.identifiers import InvalidIdentifier, parse_postcode


@dataclass(frozen=True)
class LinkRecord:
    unique_id: str
    given_name: str | None
    given_nicknames: list[str] | None
    given_phonetic: str | None
    family_name: str | None
    family_tokens: list[str] | None
    family_phonetic: str | None
    dob: str | None
    dob_swapped: str | None
    birth_year: str | None
    postcode: str | None
    postcode_sector: str | None
    postcode_district: str | None
    sex: str | None
    nhs_number: str | None
    upn: str | None

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def _given(doc: dict[str, Any]) -> tuple[str | None, list[str] | None, str | None]:
    given = names.standard_given(str(doc.get("given_name") or ""))
    if not given:
        return None, None, None
    return given, list(names.nickname_keys(given)), names.phonetic(given) or None


def _family(doc: dict[str, Any]) -> tuple[str | None, list[str] | None, str | None]:
    family = names.standard_family(str(doc.get("family_name") or ""))
    if not family:
        return None, None, None
    tokens = set(names.family_tokens(family))
    tokens |= set(names.family_tokens(str(doc.get("former_family_name") or "")))
    return family, sorted(tokens), names.phonetic(family.replace(" ", "")) or None


def _postcode(text: str | None) -> tuple[str | None, str | None, str | None]:
    if not text:
        return None, None, None
    try:
        postcode = parse_postcode(text)
    except InvalidIdentifier:
        return None, None, None
    return str(postcode), f"{postcode.outward} {postcode.inward[0]}", postcode.district


def from_canonical(unique_id: str, doc: dict[str, Any]) -> LinkRecord:
    """Standardise one record in its canonical form (`FeedRecord.canonical()`)."""
    given, nicknames, given_phonetic = _given(doc)
    family, tokens, family_phonetic = _family(doc)
    birth = dt.date.fromisoformat(str(doc["date_of_birth"])) if doc.get("date_of_birth") else None
    swapped = dates.day_month_swapped(birth) if birth else None
    postcode, sector, district = _postcode(doc.get("postcode"))
    return LinkRecord(
        unique_id=unique_id,
        given_name=given,
        given_nicknames=nicknames,
        given_phonetic=given_phonetic,
        family_name=family,
        family_tokens=tokens,
        family_phonetic=family_phonetic,
        dob=birth.isoformat() if birth else None,
        dob_swapped=swapped.isoformat() if swapped else None,
        birth_year=str(birth.year) if birth else None,
        postcode=postcode,
        postcode_sector=sector,
        postcode_district=district,
        sex=doc.get("sex") if doc.get("sex") in ("M", "F") else None,
        nhs_number=doc.get("nhs_number") or None,
        upn=doc.get("upn") or None,
    )
