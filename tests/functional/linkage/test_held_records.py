"""A record waiting because it might be a shielded child looks, in clear, like any other
waiting record (ADR 0010): its method is `review`, its hold decision has no weight, and
only its sealed review item says why it waits."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactpoint.linkage import review, store
from contactpoint.linkage.models import LinkDecision, ReviewItem
from contactpoint.linkage.review_items import about
from contactpoint.registry.models import Child, SourceRecord
from tests.linkage.scenarios import Registry, benefit, isla, nameless, nhs
from tests.support.migrations import written_before
from tests.support.registry import raw_rows

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

CB = "child_benefit"
NHS = "nhs_demographics"
OKAFOR = {
    "family_name": "Okafor",
    "date_of_birth": "2014-07-09",
    "address_line1": "9 Mill Lane",
    "postcode": "E8 1AB",
}


def held_and_thin(feeds: Path) -> Registry:
    """Amelia's child benefit record held beside her shielded twin Isla (it scores above the
    upper threshold against Amelia), and a nameless record beside the Okafor twins. (Amelia's
    own NHS record waits too: it came with her sensitive twin's.)"""
    registry = Registry(feeds)
    twins = [nhs("H1", given_name="Tobi", nhs_number="4010232161", **OKAFOR)]
    twins.append(nhs("H2", given_name="Tayo", nhs_number="4010232188", **OKAFOR))
    registry.load(NHS, [nhs("N1"), isla(sensitive="Y"), *twins])
    registry.load(CB, [benefit("CB1"), nameless("CB9", **OKAFOR)])
    return registry


def cells(table: str) -> set[str]:
    return {str(v) for row in raw_rows(table) for v in row}


def test_a_held_record_says_nothing_in_clear_of_why_it_waits(feeds: Path) -> None:
    registry = held_and_thin(feeds)
    held, thin = registry.item(CB, "CB1"), registry.item(CB, "CB9")
    assert about(held).reason == "shielded" and about(thin).reason != "shielded"
    assert any(c.shielded for c in Child.objects.filter(pk__in=about(held).child_ids()))
    # The case a clear weight gave away: nothing but a shielded child near it leaves a
    # record scoring above the upper threshold waiting.
    best = about(held).best_weight
    assert best is not None and best >= store.active().upper
    # Read as a thief would: every waiting record has one method, no hold a weight.
    waiting = SourceRecord.objects.filter(status="pending")
    assert set(waiting.values_list("method", flat=True)) == {"review"} and waiting.count() >= 2
    assert "near_shielded" not in cells("registry_sourcerecord")
    holds = LinkDecision.objects.filter(action=LinkDecision.Action.HOLD)
    assert holds.count() == waiting.count()
    assert set(holds.values_list("weight", flat=True)) == {None}


def test_the_queue_still_tells_a_held_record_by_its_sealed_reason(feeds: Path) -> None:
    registry = held_and_thin(feeds)
    held, thin = registry.item(CB, "CB1"), registry.item(CB, "CB9")
    shielded = {e.item_id for e in review.open_items("shielded")}
    assert held.pk in shielded and thin.pk not in shielded
    assert thin.pk in {e.item_id for e in review.open_items(about(thin).reason)}
    view = review.item_view(str(held.pk))
    assert view.reason == "shielded" and any(c.protected for c in view.candidates)


def test_the_migration_makes_every_waiting_record_look_alike(feeds: Path) -> None:
    registry = held_and_thin(feeds)
    held = registry.record(CB, "CB1")
    thin = registry.record(CB, "CB9")
    linked = registry.record(NHS, "H1")
    before = [
        ("registry", "0021_involvement_digests_unindexed"),
        ("linkage", "0006_seal_review_items"),
    ]

    def write(apps: object) -> None:
        records = apps.get_model("registry", "SourceRecord")  # type: ignore[attr-defined]
        decisions = apps.get_model("linkage", "LinkDecision")  # type: ignore[attr-defined]
        records.objects.filter(pk=held.pk).update(method="near_shielded")
        records.objects.filter(pk=thin.pk).update(method="none")
        decisions.objects.filter(action="hold").update(weight=17.5)

    written_before(before, write)
    assert SourceRecord.objects.get(pk=held.pk).method == "review"
    assert SourceRecord.objects.get(pk=thin.pk).method == "review"
    assert SourceRecord.objects.get(pk=linked.pk).method == "new_child"
    holds = LinkDecision.objects.filter(action=LinkDecision.Action.HOLD)
    assert holds.count() == SourceRecord.objects.filter(status="pending").count()
    assert set(holds.values_list("weight", flat=True)) == {None}
    # The reason is untouched in the sealed item.
    assert about(ReviewItem.objects.get(source_record=held, status="open")).reason == "shielded"
