"""Tiny registries for review tests, built by loading feed rows as a real load would.

Amelia and Isla Hartley are made-up twins: same family name, birth date and address,
different NHS numbers. A child benefit record with their details but no given name and no
NHS number scores exactly as high against both (a person must decide); one with a
misspelt name and the day and month of birth swapped scores low against both, which still
holds it when a twin is shielded.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from contactpoint.ingest.loader import load_folder
from contactpoint.linkage.models import ReviewItem
from contactpoint.registry.golden import golden_record
from contactpoint.registry.models import Child, Involvement, SourceRecord
from contactpoint.registry.sources import record_ref
from tests.support.feeds import AMELIA, feed_row, write_feed

ISLA_NHS = "4010232145"
OLA_NHS = "4010232153"


def nhs(record_id: str, **values: str) -> dict[str, str]:
    base = {"as_at": "2026-11-01", "org_code": "A81001", "org_role": "gp", **AMELIA}
    return feed_row(record_id=record_id, **{**base, **values})


def isla(record_id: str = "N2", **values: str) -> dict[str, str]:
    return nhs(record_id, given_name="Isla", nhs_number=ISLA_NHS, **values)


def ola(record_id: str = "N3", **values: str) -> dict[str, str]:
    other = dict(
        given_name="Ola",
        family_name="Nowak",
        date_of_birth="2016-05-05",
        address_line1="7 Park Lane",
        postcode="NW1 7PL",
        nhs_number=OLA_NHS,
    )
    return nhs(record_id, **{**other, **values})


def benefit(record_id: str, **values: str) -> dict[str, str]:
    """A child benefit record: no NHS number, so only the model can link it."""
    base = {**AMELIA, "nhs_number": "", "as_at": "2026-09-01"}
    return feed_row(record_id=record_id, **{**base, **values})


def nameless(record_id: str = "CB1", **values: str) -> dict[str, str]:
    return benefit(record_id, given_name="", **values)


def misspelt(record_id: str = "CB3", **values: str) -> dict[str, str]:
    return benefit(
        record_id, given_name="Ayla", family_name="Hartly", date_of_birth="2015-04-03", **values
    )


def school(record_id: str, **values: str) -> dict[str, str]:
    base = {**AMELIA, "as_at": "2026-10-01", "org_code": "100001", "org_role": "school"}
    return feed_row(record_id=record_id, **{**base, **values})


class Registry:
    """Load feeds into the test registry, one new file per call, and look things up."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.part = 0

    def load(self, source: str, rows: list[dict[str, str]]) -> None:
        write_feed(self.folder, source, rows, part=self.part)
        self.part += 1
        load_folder(self.folder)

    @staticmethod
    def record(source: str, record_id: str) -> SourceRecord:
        return SourceRecord.objects.get(record_ref=record_ref(source, record_id))

    def child(self, source: str, record_id: str) -> Child:
        child = self.record(source, record_id).child
        assert child is not None
        return child

    def item(self, source: str, record_id: str) -> ReviewItem:
        """The record's open review item."""
        return ReviewItem.objects.get(
            source_record=self.record(source, record_id), status=ReviewItem.Status.OPEN
        )


def snapshot() -> dict[str, Any]:
    """Everything a decision could change, to prove a refused one changed nothing."""
    from contactpoint.linkage.models import LinkBlock, LinkDecision

    facts = {
        "involvements": Involvement.objects.count(),
        "preferred": set(SourceRecord.objects.values_list("id", "preferred")),
    }
    return {
        "children": {
            (c.pk, c.cpid, c.status, c.shielded, c.merged_into_id) for c in Child.objects.all()
        },
        "records": set(
            SourceRecord.objects.values_list("id", "child", "status", "method", "confidence")
        ),
        "items": set(ReviewItem.objects.values_list("id", "status")),
        "decisions": LinkDecision.objects.count(),
        "blocks": LinkBlock.objects.count(),
        "facts": facts,
        "golden": {c: golden_record(c) for c in Child.objects.values_list("id", flat=True)},
    }


def child_ids() -> set[uuid.UUID]:
    return set(Child.objects.values_list("id", flat=True))
