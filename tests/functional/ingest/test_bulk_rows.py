"""The rows a bulk first load makes as tuples, without model instances: the involvements
and source records the row loader writes for the same records, their digests and sealed
values exactly those the registry's own functions give."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from contactpoint.ingest.batch import content_digest
from contactpoint.ingest.bulk.load import bulk_load_folder
from contactpoint.ingest.loader import load_folder
from contactpoint.registry import involvement_facts, payloads
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.involvement_facts import area_member, member, slot, with_links
from contactpoint.registry.models import Involvement, SourceRecord
from tests.support.children import roles_of
from tests.support.feeds import feed_row, write_feed
from tests.support.registry import empty_everything

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "keys"], transaction=True),
]

CAMDEN = "E09000007"  # both organisations' council area (tests/support/feeds.py)


def _child(record_id: str, **values: str) -> dict[str, str]:
    return feed_row(
        record_id=record_id,
        given_name="Ola",
        family_name="Nowak",
        date_of_birth="2016-05-05",
        sex="F",
        postcode="NW1 1AA",
        nhs_number="4010232137",
        **values,
    )


def write_one_child_in_three_records(feeds: Path) -> None:
    """One child: two records naming the same GP practice, as at two dates, and a school
    record with the day the child started there."""
    gp = {"org_code": "A81001", "org_role": "gp", "involvement_start": "2019-04-01"}
    write_feed(feeds, "nhs_demographics", [_child("N1", as_at="2026-10-01", **gp)])
    write_feed(feeds, "child_benefit", [_child("B1", as_at="2026-11-01", **gp)])
    school = {"org_code": "100001", "org_role": "school", "involvement_start": "2021-09-01"}
    write_feed(feeds, "school_census", [_child("S1", as_at="2026-10-15", **school)])


def involvements() -> list[tuple[Any, ...]]:
    """Each involvement opened: organisation, role, start, dates, and whether its three
    digests are those of its child, organisation, role and council area."""
    rows = with_links(Involvement.objects.order_by("pk"))
    ciphers = ciphers_for({i.child_id for i in rows})
    found = []
    for i, role in zip(rows, roles_of(rows), strict=True):
        org, child = i.organisation_id, i.child_id
        digests = (
            bytes(i.slot) == slot(child, org, role),
            bytes(i.member) == member(child, org),
            bytes(i.area_member) == area_member(child, CAMDEN),
        )
        start = involvement_facts.started(ciphers[child], i)
        found.append((i.organisation.code, role, start, i.last_confirmed, i.end_date, digests))
    return sorted(found)


def test_a_bulk_load_writes_the_involvements_the_row_loader_writes(feeds: Path) -> None:
    write_one_child_in_three_records(feeds)
    load_folder(feeds)
    by_rows = involvements()
    empty_everything()

    bulk_load_folder(feeds)

    assert involvements() == by_rows
    assert by_rows == [
        # One GP involvement, confirmed by the later record of the two.
        ("100001", "school", dt.date(2021, 9, 1), dt.date(2026, 10, 15), None, (True,) * 3),
        ("A81001", "gp", dt.date(2019, 4, 1), dt.date(2026, 11, 1), None, (True,) * 3),
    ]
    # Each stated by a record of its own child.
    for child, record in Involvement.objects.values_list("child_id", "source_record_id"):
        assert SourceRecord.objects.get(pk=record).child_id == child


def test_every_payload_a_bulk_load_seals_compact_opens_as_the_json_it_digested(
    feeds: Path,
) -> None:
    """The bulk writer seals each payload compact without opening it again to check
    (`payloads.compact`, `encoded`): each must open as exactly the canonical JSON whose
    digest its record keeps."""
    write_one_child_in_three_records(feeds)
    bulk_load_folder(feeds)

    records = list(SourceRecord.objects.all())
    ciphers = ciphers_for({sr.child_id for sr in records if sr.child_id})
    assert len(records) == 3
    for sr in records:
        assert sr.child_id is not None
        cipher = ciphers[sr.child_id]
        sealed = cipher.open(SourceRecord, "payload", sr.pk, bytes(sr.payload))
        assert sealed is not None and sealed.startswith(f'["{payloads.FORM}",')
        body = payloads.open_payload(cipher, sr.pk, sr.payload)
        assert body is not None and payloads.is_canonical(body)
        assert content_digest(body) == bytes(sr.digest)
