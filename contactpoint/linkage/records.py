"""The linkage view of a source record: standardised columns, computed in Python.

All standardisation happens here, before Splink or the in-process scorer sees a record, so
both compare exactly the same values and the comparisons themselves stay simple
(docs/linkage.md). A value that is not evidence (a placeholder name, an invalid
identifier, sex 'U') is None, and None is never evidence for or against a match.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa

from contactpoint.lib import dates, names
from contactpoint.lib.identifiers import InvalidIdentifier, Postcode, parse_postcode
from contactpoint.registry.feeds import FeedRecord, fast_constructor


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
    middle_names: list[str] | None
    house_number: str | None
    address_line: str | None
    address_tokens: list[str] | None
    town: str | None
    identifiers: list[str] | None  # "scheme:value", for identifiers a mapping declares
    identifier_schemes: list[str] | None

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


_new_link_record = fast_constructor(LinkRecord)

# Names and postcodes repeat across millions of records: standardise each text once.
_cached = functools.lru_cache(maxsize=1 << 17)


@_cached
def _given(text: str) -> tuple[str | None, tuple[str, ...] | None, str | None]:
    given = names.standard_given(text)
    if not given:
        return None, None, None
    return given, names.nickname_keys(given), names.phonetic(given) or None


@_cached
def _family(text: str, former: str) -> tuple[str | None, tuple[str, ...] | None, str | None]:
    family = names.standard_family(text)
    if not family:
        return None, None, None
    tokens = set(names.family_tokens(family)) | set(names.family_tokens(former))
    return family, tuple(sorted(tokens)), names.phonetic(family.replace(" ", "")) or None


@_cached
def _middles(given: str, middle: str) -> tuple[str, ...] | None:
    """Every given-name token after the first ('Amy Rose' has 'rose'), then the middle names."""
    middles = tuple(dict.fromkeys(names.name_tokens(given)[1:] + names.name_tokens(middle)))
    return middles or None


@_cached
def _address(
    line1: str, line2: str, town: str
) -> tuple[str | None, str | None, tuple[str, ...] | None, str | None]:
    house, street, words = names.standard_address(line1, line2)
    return house or None, street or None, words or None, names.standard_town(town) or None


def _identifiers(pairs: Iterable[tuple[str, str]]) -> tuple[list[str] | None, list[str] | None]:
    """A record's declared identifiers as "scheme:value" and its schemes, sorted."""
    found = sorted({f"{scheme}:{value}" for scheme, value in pairs if scheme and value})
    if not found:
        return None, None
    return found, sorted({entry.split(":", 1)[0] for entry in found})


_Parts = tuple[str | None, str | None, str | None]
_NONE: _Parts = (None, None, None)


@_cached
def _postcode(text: str | None) -> _Parts:
    if not text:
        return _NONE
    try:
        postcode = parse_postcode(text)
    except InvalidIdentifier:
        return _NONE
    return _postcode_parts(postcode)


def _postcode_parts(postcode: Postcode) -> _Parts:
    """The postcode, its sector and its district. The same as _postcode(str(postcode)): a
    Postcode is only ever made by parse_postcode, which gives it back from its text."""
    return str(postcode), f"{postcode.outward} {postcode.inward[0]}", postcode.district


@_cached
def _birth(birth: dt.date) -> tuple[str, str | None, str]:
    swapped = dates.day_month_swapped(birth)
    return birth.isoformat(), swapped.isoformat() if swapped else None, str(birth.year)


@dataclass(frozen=True)
class _Extra:
    """The fields beyond name, birth, postcode, sex and national identifiers, as received."""

    middle_names: str
    line1: str
    line2: str
    town: str
    identifiers: tuple[tuple[str, str], ...]


def from_canonical(unique_id: str, doc: dict[str, Any]) -> LinkRecord:
    """Standardise one record in its canonical form (`FeedRecord.canonical()`)."""
    birth = dt.date.fromisoformat(str(doc["date_of_birth"])) if doc.get("date_of_birth") else None
    return _standardise(
        unique_id,
        str(doc.get("given_name") or ""),
        str(doc.get("family_name") or ""),
        str(doc.get("former_family_name") or ""),
        birth,
        _postcode(doc.get("postcode") or None),
        str(doc.get("sex") or ""),
        doc.get("nhs_number") or None,
        doc.get("upn") or None,
        _Extra(
            str(doc.get("middle_names") or ""),
            str(doc.get("address_line1") or ""),
            str(doc.get("address_line2") or ""),
            str(doc.get("town") or ""),
            tuple((str(k), str(v)) for k, v in (doc.get("identifiers") or {}).items()),
        ),
    )


def from_feed(unique_id: str, record: FeedRecord) -> LinkRecord:
    """Standardise one parsed feed record (the same as from_canonical of its canonical form)."""
    return _standardise(
        unique_id,
        record.given_name,
        record.family_name,
        record.former_family_name,
        record.date_of_birth,
        _postcode_parts(record.postcode) if record.postcode else _NONE,
        record.sex,
        record.nhs_number,
        record.upn,
        _Extra(
            record.middle_names,
            record.address_line1,
            record.address_line2,
            record.town,
            tuple(getattr(record, "identifiers", ())),
        ),
    )


def _standardise(
    unique_id: str,
    given_text: str,
    family_text: str,
    former_text: str,
    birth: dt.date | None,
    postcode_parts: _Parts,
    sex: str,
    nhs_number: str | None,
    upn: str | None,
    extra: _Extra,
) -> LinkRecord:
    given, nicknames, given_phonetic = _given(given_text)
    family, tokens, family_phonetic = _family(family_text, former_text)
    dob, dob_swapped, birth_year = _birth(birth) if birth else (None, None, None)
    postcode, sector, district = postcode_parts
    middles = _middles(given_text, extra.middle_names)
    house, street, words, town = _address(extra.line1, extra.line2, extra.town)
    identifiers, schemes = _identifiers(extra.identifiers)
    return _new_link_record(
        unique_id=unique_id,
        given_name=given,
        given_nicknames=list(nicknames) if nicknames is not None else None,
        given_phonetic=given_phonetic,
        family_name=family,
        family_tokens=list(tokens) if tokens is not None else None,
        family_phonetic=family_phonetic,
        dob=dob,
        dob_swapped=dob_swapped,
        birth_year=birth_year,
        postcode=postcode,
        postcode_sector=sector,
        postcode_district=district,
        sex=sex if sex in ("M", "F") else None,
        nhs_number=nhs_number,
        upn=upn,
        middle_names=list(middles) if middles else None,
        house_number=house,
        address_line=street,
        address_tokens=list(words) if words is not None else None,
        town=town,
        identifiers=identifiers,
        identifier_schemes=schemes,
    )


LIST_COLUMNS = frozenset(
    {
        "given_nicknames",
        "family_tokens",
        "middle_names",
        "address_tokens",
        "identifiers",
        "identifier_schemes",
    }
)
_TEXT = pa.string()
_LIST = pa.list_(pa.string())
SCHEMA = pa.schema(
    [(name, _LIST if name in LIST_COLUMNS else _TEXT) for name in LinkRecord.__dataclass_fields__]
)


def as_table(records: Iterable[LinkRecord]) -> pa.Table:
    """The records as an Arrow table, built column by column (no dict per record)."""
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    appends = [(name, columns[name].append) for name in SCHEMA.names]
    for record in records:
        for name, append in appends:
            append(getattr(record, name))
    return pa.Table.from_pydict(columns, schema=SCHEMA)
