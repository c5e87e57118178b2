"""A review item held because its record might be a shielded child looks, in the database,
like any other (ADR 0010): its reason and its candidates are sealed in `about`."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from contactpoint.linkage import review, review_items
from contactpoint.linkage.models import ReviewItem
from contactpoint.linkage.review_items import about
from contactpoint.registry.models import Child
from tests.linkage.scenarios import Registry, isla, misspelt, nameless, nhs
from tests.support.migrations import applied_models
from tests.support.registry import raw_rows

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

CB = "child_benefit"
NHS = "nhs_demographics"
BEFORE = [("linkage", "0005_decisions_unindexed_foreign_keys")]
OKAFOR = {
    "family_name": "Okafor",
    "date_of_birth": "2014-07-09",
    "address_line1": "9 Mill Lane",
    "postcode": "E8 1AB",
}


def held_and_other(feeds: Path) -> tuple[ReviewItem, ReviewItem]:
    """An item held beside shielded Isla, and one beside the Okafor twins (not shielded)."""
    registry = Registry(feeds)
    twins = [nhs("H1", given_name="Tobi", nhs_number="4010232161", **OKAFOR)]
    twins.append(nhs("H2", given_name="Tayo", nhs_number="4010232188", **OKAFOR))
    registry.load(NHS, [nhs("N1"), isla(sensitive="Y"), *twins])
    registry.load(CB, [misspelt(), nameless("CB9", **OKAFOR)])
    return registry.item(CB, "CB3"), registry.item(CB, "CB9")


def forms(ids: set[object]) -> set[str]:
    return {str(i) for i in ids} | {i.hex for i in ids if hasattr(i, "hex")}


def test_a_shielded_item_looks_like_any_other_in_the_database(feeds: Path) -> None:
    held, other = held_and_other(feeds)
    assert any(c.shielded for c in Child.objects.filter(pk__in=about(held).child_ids()))
    assert about(held).reason == "shielded" and about(other).reason != "shielded"
    assert len(about(other).candidates) == 2
    # Read as a thief would: no reason, no child, and one length for every item's `about`.
    rows = raw_rows("linkage_reviewitem")
    assert len(rows) >= 2
    children = forms(set(Child.objects.values_list("pk", flat=True)))
    for row in rows:
        cells = {str(v) for v in row} | {v.hex() for v in row if isinstance(v, bytes)}
        assert not {"shielded", "review_band", "several", "runner_up"} & cells
        assert not children & cells
    with connection.cursor() as cursor:
        cursor.execute("SELECT about FROM linkage_reviewitem")
        assert len({len(bytes(about)) for (about,) in cursor.fetchall()}) == 1
    assert "linkage_reviewcandidate" not in connection.introspection.table_names()


def test_the_queue_filters_and_shows_sealed_items_by_reason(feeds: Path) -> None:
    held, other = held_and_other(feeds)
    everything = review.open_items()
    assert {held.pk, other.pk} <= {e.item_id for e in everything}
    shielded = {e.item_id for e in review.open_items("shielded")}
    assert held.pk in shielded and other.pk not in shielded
    assert held.pk not in {e.item_id for e in review.open_items(about(other).reason)}
    assert all(e.reason == "shielded" for e in review.open_items("shielded"))
    listed = {e.item_id: e for e in everything}[other.pk]
    assert listed.candidates == 2
    assert listed.best_weight == max(c.weight for c in about(other).candidates)
    view = review.item_view(str(held.pk))
    assert view.reason == "shielded" and all(c.protected for c in view.candidates)


def test_the_migration_seals_existing_items(feeds: Path) -> None:
    held, other = held_and_other(feeds)  # two children to name, and records to wait
    first = Child.objects.order_by("pk").first()
    assert first is not None
    records = (held.source_record_id, other.source_record_id)
    ReviewItem.objects.all().delete()
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = applied_models()
        item, candidate = (old.get_model("linkage", m) for m in ("ReviewItem", "ReviewCandidate"))
        shielded = item.objects.create(source_record_id=records[0], reason="shielded")
        decided = item.objects.create(
            source_record_id=records[1], reason="review_band", status="decided"
        )
        parts = [["given_name", "exact match", 4.5]]
        candidate.objects.create(item=shielded, child_id=first.pk, weight=2.5, contributions=parts)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    opened = review_items.abouts(ReviewItem.objects.all())
    expected = review_items.ReviewCandidate(first.pk, 2.5, (("given_name", "exact match", 4.5),))
    assert opened[shielded.pk] == review_items.About("shielded", (expected,))
    assert opened[decided.pk] == review_items.About("review_band")
    assert ReviewItem.objects.get(pk=decided.pk).status == "decided"
    for row in raw_rows("linkage_reviewitem"):
        assert not {"shielded", "review_band"} & {v for v in row if isinstance(v, str)}
