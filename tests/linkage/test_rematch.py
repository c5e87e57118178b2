"""Records waiting as too thin to match safely are matched again once a load has made
children: linked when the model is sure, given the children they might be otherwise, under
the real-time rules (never a shielded child, never one of twins, never one a person ruled
out), and matching them twice changes nothing the second time."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactpoint.linkage import review
from contactpoint.linkage.models import LinkDecision, ReviewItem
from contactpoint.linkage.rematch import rematch
from contactpoint.linkage.review_items import about
from contactpoint.registry.models import Child
from tests.linkage.scenarios import Registry, benefit, isla, nameless, nhs, snapshot
from tests.support.cli import run_cli

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

CB, NHS = "child_benefit", "nhs_demographics"


def undated(record_id: str = "CB1", **values: str) -> dict[str, str]:
    """Amelia's child benefit record with no date of birth: too thin to found a child."""
    return benefit(record_id, date_of_birth="", **values)


def _waits_alone(registry: Registry, record_id: str = "CB1") -> ReviewItem:
    item = registry.item(CB, record_id)
    assert (about(item).reason, len(about(item).candidates)) == ("insufficient", 0)
    assert not Child.objects.exists()
    return item


def test_a_thin_record_loaded_before_its_child_is_linked_when_the_child_loads(
    feeds: Path,
) -> None:
    registry = Registry(feeds)
    registry.load(CB, [undated()])
    item = _waits_alone(registry)
    registry.load(NHS, [nhs("N1")])
    amelia = registry.child(NHS, "N1")
    record = registry.record(CB, "CB1")
    assert (record.child_id, record.status, record.method) == (amelia.pk, "linked", "model")
    assert 0.5 < record.confidence < 1.0
    assert ReviewItem.objects.get(pk=item.pk).status == ReviewItem.Status.DECIDED
    decision = LinkDecision.objects.get(source_record=record, action="auto_link")
    assert (decision.action, decision.decided_by, decision.child_id) == (
        LinkDecision.Action.AUTO_LINK,
        LinkDecision.AUTOMATIC,
        amelia.pk,
    )
    assert decision.weight is not None and decision.model is not None
    assert Child.objects.count() == 1


def test_a_model_link_of_a_waiting_record_is_reversible(feeds: Path) -> None:
    registry = Registry(feeds)
    registry.load(CB, [undated()])
    registry.load(NHS, [nhs("N1")])
    record = registry.record(CB, "CB1")
    assert record.child_id is not None
    review.unlink(str(record.pk), "Alice Ward")
    assert registry.record(CB, "CB1").child_id is None
    assert registry.item(CB, "CB1").status == ReviewItem.Status.OPEN


def test_a_nameless_record_gets_its_candidate_and_waits(feeds: Path) -> None:
    """Birth date, family name and address but no given name: a twin's record would look
    the same, so the model never links it; the index team now sees Amelia beside it."""
    registry = Registry(feeds)
    registry.load(CB, [nameless("CB1")])
    item = _waits_alone(registry)
    registry.load(NHS, [nhs("N1")])
    assert registry.item(CB, "CB1").pk == item.pk
    assert registry.record(CB, "CB1").child_id is None
    opened = about(registry.item(CB, "CB1"))  # resealed by the rematch
    assert [c.child_id for c in opened.candidates] == [registry.child(NHS, "N1").pk]


def test_a_thin_record_is_not_linked_to_either_twin(feeds: Path) -> None:
    registry = Registry(feeds)
    registry.load(CB, [nameless("CB1", date_of_birth="")])
    _waits_alone(registry)
    registry.load(NHS, [nhs("N1"), isla()])
    assert registry.record(CB, "CB1").child_id is None
    twins = {registry.child(NHS, "N1").pk, registry.child(NHS, "N2").pk}
    assert about(registry.item(CB, "CB1")).child_ids() == twins


def test_a_thin_record_is_never_linked_to_a_shielded_child(feeds: Path) -> None:
    registry = Registry(feeds)
    registry.load(CB, [undated()])
    item = _waits_alone(registry)
    registry.load(NHS, [nhs("N1", sensitive="Y")])
    amelia = registry.child(NHS, "N1")
    assert amelia.shielded
    assert registry.record(CB, "CB1").child_id is None
    assert registry.item(CB, "CB1").pk == item.pk
    assert [c.child_id for c in about(registry.item(CB, "CB1")).candidates] == [amelia.pk]


def test_a_child_a_person_ruled_out_is_not_linked_again(feeds: Path) -> None:
    registry = Registry(feeds)
    registry.load(CB, [nameless("CB1")])
    registry.load(NHS, [nhs("N1")])
    item = registry.item(CB, "CB1")
    amelia = registry.child(NHS, "N1")
    review.not_a_match(str(item.pk), amelia.cpid, "Alice Ward")
    before = snapshot()
    found = rematch()
    assert (found.waiting, found.linked, found.candidates_added) == (1, 0, 0)
    assert snapshot() == before


def test_matching_again_twice_changes_nothing_the_second_time(feeds: Path) -> None:
    registry = Registry(feeds)
    registry.load(CB, [undated("CB1"), nameless("CB2"), nameless("CB3", family_name="Quint")])
    registry.load(NHS, [nhs("N1")])
    assert registry.record(CB, "CB1").child_id is not None
    before = snapshot()
    found = rematch()
    assert (found.waiting, found.linked, found.given_candidates) == (2, 0, 0)
    assert snapshot() == before


def test_a_dry_run_changes_nothing(feeds: Path) -> None:
    registry = Registry(feeds)
    registry.load(CB, [undated()])
    # A child made by a person, which no load has matched the waiting record against.
    registry.load(NHS, [nhs("N1", family_name="Quint", postcode="SW1A 1AA")])
    assert registry.record(CB, "CB1").child_id is None
    before = snapshot()
    lines: list[str] = []
    found = rematch(lines.append, dry_run=True)
    assert found.waiting == 1 and lines
    assert snapshot() == before


def _beside_the_twins(registry: Registry) -> ReviewItem:
    """Amelia's undated record, loaded before the twins: it waits with both."""
    registry.load(CB, [undated()])
    registry.load(NHS, [nhs("N1"), isla()])
    item = registry.item(CB, "CB1")
    assert len(about(item).candidates) == 2
    return item


def test_linkage_run_links_a_thin_record_a_person_has_told_apart_from_a_twin(
    feeds: Path,
) -> None:
    """Isla ruled out, only Amelia is near: `linkage run` matches it again and links it."""
    registry = Registry(feeds)
    item = _beside_the_twins(registry)
    review.not_a_match(str(item.pk), registry.child(NHS, "N2").cpid, "Alice Ward")
    assert registry.record(CB, "CB1").child_id is None
    dry = run_cli("linkage", "run", "--dry-run")
    assert "would have: 1 record(s) waiting as too thin matched again: 1 linked" in dry.stdout
    assert registry.record(CB, "CB1").child_id is None
    run_cli("linkage", "run")
    assert registry.record(CB, "CB1").child_id == registry.child(NHS, "N1").pk


def test_a_run_killed_part_way_keeps_what_it_did_and_the_next_finishes(
    feeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Items are matched a batch per transaction: what a killed run committed stays."""
    registry = Registry(feeds)
    registry.load(CB, [undated("CB1"), undated("CB2")])
    registry.load(NHS, [nhs("N1"), isla()])
    for record_id in ("CB1", "CB2"):
        item = registry.item(CB, record_id)
        review.not_a_match(str(item.pk), registry.child(NHS, "N2").cpid, "Alice Ward")
    monkeypatch.setattr("contactpoint.linkage.rematch.BATCH", 1)

    def killed(line: str) -> None:
        raise KeyboardInterrupt(line)  # after the first batch has committed

    with pytest.raises(KeyboardInterrupt):
        rematch(killed)
    amelia = registry.child(NHS, "N1").pk
    linked = [registry.record(CB, r).child_id for r in ("CB1", "CB2")]
    assert sorted(linked, key=str) == sorted([amelia, None], key=str)
    assert rematch().linked == 1
    assert [registry.record(CB, r).child_id for r in ("CB1", "CB2")] == [amelia, amelia]
    before = snapshot()
    assert rematch().waiting == 0
    assert snapshot() == before
