"""No feed can ever make a visible second record of a shielded child.

A shielded child is loaded, then records that might be them arrive in every way a source
gets a child wrong: each must join the shielded child or be held, never become a new,
visible child. The same holds when the sensitive record and its near-duplicates come in
one batch, and when the visible record came first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contactpoint.ingest.loader import load_folder
from contactpoint.registry.models import Child, SourceRecord
from tests.support.feeds import feed_row, write_feed

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

CHILD = dict(
    as_at="2026-11-01",
    given_name="William",
    family_name="Okafor-Reid",
    date_of_birth="2014-05-09",
    sex="M",
    address_line1="12 Mill Lane",
    town="Leeds",
    postcode="LS6 2QT",
    nhs_number="4010232137",
)
# Each is one way a source might write the same child.
VARIANTS: dict[str, dict[str, str]] = {
    "exact, no identifier": {"nhs_number": ""},
    "nickname": {"given_name": "Bill", "nhs_number": ""},
    "typo in the given name": {"given_name": "Wiliam", "nhs_number": ""},
    "typo in the family name": {"family_name": "Okafor-Ried", "nhs_number": ""},
    "one part of a double surname": {"family_name": "Reid", "nhs_number": ""},
    "day and month swapped": {"date_of_birth": "2014-09-05", "nhs_number": ""},
    "one digit off": {"date_of_birth": "2014-05-08", "nhs_number": ""},
    "moved away": {
        "address_line1": "4 Dock St",
        "town": "Hull",
        "postcode": "HU1 1AA",
        "nhs_number": "",
    },
    "new surname and moved": {"family_name": "Smith", "postcode": "HU1 1AA", "nhs_number": ""},
    "placeholder given name": {"given_name": "Baby", "nhs_number": ""},
    "invalid NHS number": {"nhs_number": "4010232138"},
    "a UPN only": {"nhs_number": "", "upn": "A801200005010"},
    "a different valid NHS number": {"nhs_number": "4010232145"},
}


def _variant_rows() -> list[dict[str, str]]:
    return [
        feed_row(record_id=f"V{n}", **{**CHILD, "as_at": "2026-10-01", **change})
        for n, change in enumerate(VARIANTS.values())
    ]


def _no_visible_duplicate(shielded_records: int) -> None:
    visible = [c for c in Child.objects.all() if not c.shielded]
    assert not visible, f"{len(visible)} visible children"
    linked = SourceRecord.objects.filter(status="linked").count()
    held = SourceRecord.objects.filter(status="pending").count()
    assert linked + held == shielded_records + len(VARIANTS)


def test_near_duplicates_arriving_later_join_or_are_held(feeds: Path) -> None:
    write_feed(feeds, "nhs_demographics", [feed_row(record_id="N1", sensitive="Y", **CHILD)])
    load_folder(feeds)
    write_feed(feeds, "child_benefit", _variant_rows())
    load_folder(feeds)
    _no_visible_duplicate(1)


def test_near_duplicates_in_the_same_batch_join_or_are_held(feeds: Path) -> None:
    rows = [*_variant_rows(), feed_row(record_id="N1", sensitive="Y", **CHILD)]
    write_feed(feeds, "council_social_care", rows)
    load_folder(feeds)
    _no_visible_duplicate(1)


def test_a_visible_record_that_came_first_is_shielded_by_a_sensitive_one(feeds: Path) -> None:
    # The visible child exists, and the sensitive record is too different to link.
    write_feed(feeds, "nhs_demographics", [feed_row(record_id="N1", **CHILD)])
    load_folder(feeds)
    sensitive = {**CHILD, "given_name": "Liam", "postcode": "HU1 1AA", "nhs_number": ""}
    write_feed(feeds, "council_social_care", [feed_row(record_id="C1", sensitive="Y", **sensitive)])
    load_folder(feeds)
    assert not [c for c in Child.objects.all() if not c.shielded]


def test_a_child_nobody_might_be_stays_visible(feeds: Path) -> None:
    write_feed(feeds, "nhs_demographics", [feed_row(record_id="N1", sensitive="Y", **CHILD)])
    other = {
        **CHILD,
        "given_name": "Grace",
        "family_name": "Lowe",
        "date_of_birth": "2016-01-20",
        "postcode": "HU1 1AA",
        "nhs_number": "4010232145",
        "sex": "F",
    }
    write_feed(feeds, "child_benefit", [feed_row(record_id="B1", **other)])
    load_folder(feeds)
    assert len([c for c in Child.objects.all() if not c.shielded]) == 1
