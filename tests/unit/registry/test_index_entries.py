"""The blind index entries a bulk load and a refresh write (golden.index_entries, through
blind_index.Entries) are exactly those the per-value functions give that search uses
(identifier_entries, name_entries, place_entries) for every combination of a child's
facts, as the code before blind_index.Entries made them, each digest computed as
`crypto.truncated_mac` computes it; and survivorship chooses the records its rule names."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from contactpoint.lib import crypto
from contactpoint.lib.identifiers import InvalidIdentifier, Postcode, parse_postcode
from contactpoint.registry import blind_index
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.golden import index_entries
from contactpoint.registry.record_facts import RANKED, Stated, choose, states

CHILDREN = [uuid.UUID(int=n) for n in (1, 2, 3)]
# Few values, so children and records share them: twins, one name in two records, two
# postcodes of one district, a placeholder, a double-barrelled name, a postcode that does
# not parse again.
DATES = [None, dt.date(2015, 3, 4), dt.date(2015, 4, 3), dt.date(2009, 12, 31)]
POSTCODES = [None, *map(parse_postcode, ["NW1 5LR", "NW1 6XE", "SW1A 1AA"]), Postcode("Q", "1")]
GIVEN = ["", "Amelia", "Amélia", "Baby", "Mo", "Twin 1", "Jean-Paul"]
FAMILY = ["", "Smith", "Smith-Jones", "O'Neil", "van der Berg", "Unknown", "Jones"]
NHS = [None, "", "9434765870", "4010232137"]
UPN = [None, "", "B801200005001"]
BASE = FeedRecord(
    "r", dt.date(2025, 1, 1), "", "", "", "", None, "", "", "", "", None, None, None, "", "",
    None, False,
)  # fmt: skip

FIELDS = (
    "date_of_birth", "postcode", "given_name", "family_name", "former_family_name", "nhs_number",
    "upn",
)  # fmt: skip

records = st.builds(
    lambda child, n, rank, as_at, confidence, *values: Stated(
        uuid.UUID(int=1000 + n),
        child,
        dataclasses.replace(BASE, **dict(zip(FIELDS, values, strict=True))),
        "s",
        rank,
        as_at,
        confidence,
        0,
    ),
    st.sampled_from(CHILDREN),
    st.integers(0, 10**6),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([dt.date(2025, 1, 1), dt.date(2025, 6, 1)]),
    st.sampled_from([0.9, 1.0]),
    *(st.sampled_from(v) for v in (DATES, POSTCODES, GIVEN, FAMILY, FAMILY, NHS, UPN)),
)


def stated_facts(stated: list[Stated]) -> tuple[list[Any], ...]:
    """Each record's facts, as the entries are made of them."""
    births, addresses, identifiers, child_names = [], [], [], []
    for s in stated:
        child, r = s.child_id, s.record
        births.append((child, r.date_of_birth.isoformat() if r.date_of_birth else None))
        if r.postcode:
            addresses.append((child, str(r.postcode)))
        for scheme in ("nhs_number", "upn"):
            if value := getattr(r, scheme):
                identifiers.append((child, scheme, value))
        child_names.append((child, r.given_name, r.family_name))
        if r.former_family_name:
            child_names.append((child, r.given_name, r.former_family_name))
    return births, addresses, identifiers, child_names


def per_value(
    births: list[Any], addresses: list[Any], identifiers: list[Any], child_names: list[Any]
) -> set[tuple[uuid.UUID, int, int]]:
    """Each child's entries made one value at a time: every name with every date of birth
    and postcode, every date of birth with every district, every identifier."""
    entries: dict[uuid.UUID, set[tuple[blind_index.Index, int]]] = defaultdict(set)
    dates: dict[uuid.UUID, set[dt.date]] = defaultdict(set)
    postcodes: dict[uuid.UUID, set[Any]] = defaultdict(set)
    for c, iso in births:
        if iso:
            dates[c].add(dt.date.fromisoformat(iso))
    for c, pc in addresses:
        with contextlib.suppress(InvalidIdentifier):
            postcodes[c].add(parse_postcode(pc or ""))
    for c, scheme, value in identifiers:
        if value:
            entries[c] |= blind_index.identifier_entries(scheme, value)
    for c, given_name, family_name in child_names:
        for birth in dates[c] or [None]:
            for postcode in postcodes[c] or [None]:
                entries[c] |= blind_index.name_entries(
                    given_name or "", family_name or "", birth, postcode
                )
    for c, days in dates.items():
        for day in days:
            for postcode in postcodes[c]:
                entries[c] |= blind_index.place_entries(day, postcode.district)
    return {(c, int(i), v) for c, pairs in entries.items() for i, v in pairs}


@settings(max_examples=300, deadline=None)
@given(st.lists(records, max_size=8))
def test_the_entries_are_those_made_one_value_at_a_time(stated: list[Stated]) -> None:
    made = index_entries(stated)
    assert set(made) == per_value(*stated_facts(stated))
    assert len(made) == len(set(made))


@settings(max_examples=300, deadline=None)
@given(st.lists(records, max_size=8, unique_by=lambda s: s.id))
def test_each_kind_survives_in_the_record_with_the_lowest_key(stated: list[Stated]) -> None:
    expected = {s.id: 0 for s in stated}
    for kind in RANKED:
        best: dict[uuid.UUID, Stated] = {}
        for s in stated:
            if states(s.record, kind) and (
                s.child_id not in best or s.key(kind) < best[s.child_id].key(kind)
            ):
                best[s.child_id] = s
        for s in best.values():
            expected[s.id] |= kind
    assert choose(stated) == expected


def test_a_set_up_key_digests_as_the_functions_do() -> None:
    key = crypto.new_key()
    kept = crypto.DigestKey(key)
    for message in (b"", b"2015-03-04\x1fSNATH", b"x" * 200):
        assert kept.digest(message) == crypto.keyed_digest(key, message)
        for bits in (1, 18, 22, 63):
            assert kept.truncated(message, bits) == crypto.truncated_mac(key, message, bits)
