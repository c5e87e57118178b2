"""The decisions a local index team makes, at the service level, on tiny registries."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from contactpoint.keystore.models import DataKey
from contactpoint.lib.identifiers import new_cpid
from contactpoint.linkage import corrections, review, store
from contactpoint.linkage.models import LinkBlock, LinkDecision, ReviewItem
from contactpoint.linkage.review import ReviewError
from contactpoint.linkage.review_items import About, about, reseal
from contactpoint.registry import record_facts
from contactpoint.registry.golden import golden_record
from contactpoint.registry.models import Child
from tests.linkage.scenarios import (
    Registry,
    benefit,
    child_ids,
    isla,
    misspelt,
    nameless,
    nhs,
    ola,
    school,
    snapshot,
)

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

CB = "child_benefit"
NHS = "nhs_demographics"


@pytest.fixture
def registry(feeds: Path) -> Registry:
    return Registry(feeds)


@pytest.fixture
def twins(registry: Registry) -> Registry:
    """Amelia and Isla, and a record with Amelia's name that a person must decide on."""
    registry.load(NHS, [nhs("N1"), isla()])
    registry.load(CB, [nameless()])
    return registry


def test_a_record_like_both_twins_waits_with_both_as_candidates(twins: Registry) -> None:
    item = twins.item(CB, "CB1")
    view = review.item_view(str(item.pk))
    cpids = {c.cpid for c in view.candidates}
    assert cpids == {twins.child(NHS, "N1").cpid, twins.child(NHS, "N2").cpid}
    assert view.record.family_name == "Hartley" and view.candidates[0].golden is not None


def test_a_person_links_the_record_to_a_candidate(twins: Registry) -> None:
    item = twins.item(CB, "CB1")
    amelia = twins.child(NHS, "N1")
    decision = review.link(str(item.pk), amelia.cpid, "Alice Ward")
    record = twins.record(CB, "CB1")
    assert (record.child_id, record.status, record.method) == (amelia.pk, "linked", "person")
    # Its facts are Amelia's now: its payload opens under her key.
    assert record.pk in {s.id for s in record_facts.opened([amelia.pk])[amelia.pk]}
    assert not DataKey.objects.filter(owner_id=record.pk).exists()  # its own key is shredded
    item.refresh_from_db()
    assert item.status == ReviewItem.Status.DECIDED
    assert (decision.action, decision.decided_by) == ("link", "Alice Ward")
    assert decision.model == store.active().record


def test_a_candidate_can_be_named_by_its_number(twins: Registry) -> None:
    item = str(twins.item(CB, "CB1").pk)
    second = review.item_view(item).candidates[1].cpid
    review.link(item, "2", "Alice Ward")
    assert twins.child(CB, "CB1").cpid == second


def test_no_new_child_is_made_while_a_shielded_child_might_be_the_record(
    registry: Registry,
) -> None:
    registry.load(NHS, [nhs("N1"), isla(sensitive="Y")])
    registry.load(CB, [misspelt()])
    item = registry.item(CB, "CB3")
    assert about(item).reason == "shielded"
    before = snapshot()
    with pytest.raises(ReviewError, match="shielded child who might be this one"):
        review.new_child(str(item.pk), "Alice Ward")
    assert snapshot() == before
    shielded = registry.child(NHS, "N2")
    review.not_a_match(str(item.pk), shielded.cpid, "Alice Ward")
    _, cpid = review.new_child(str(item.pk), "Alice Ward")
    child = registry.child(CB, "CB3")
    assert child.cpid == cpid and child.pk not in before["golden"]
    assert child.shielded is False


def test_a_shielded_candidate_is_shown_without_any_of_its_data(registry: Registry) -> None:
    registry.load(NHS, [nhs("N1"), isla(sensitive="Y")])
    registry.load(CB, [misspelt()])
    view = review.item_view(str(registry.item(CB, "CB3").pk))
    shielded = [c for c in view.candidates if c.protected]
    assert len(shielded) == 1
    hidden = shielded[0]
    assert (hidden.cpid, hidden.golden, hidden.weight, hidden.contributions) == (
        None,
        None,
        None,
        (),
    )


def test_a_record_marked_not_a_match_is_never_proposed_that_child_again(
    twins: Registry,
) -> None:
    item = twins.item(CB, "CB1")
    amelia = twins.child(NHS, "N1")
    decision = review.not_a_match(str(item.pk), amelia.cpid, "Alice Ward")
    block = LinkBlock.objects.get(decision=decision)
    assert (block.child_id, block.source_record_id) == (amelia.pk, item.source_record_id)
    item.refresh_from_db()
    assert item.status == ReviewItem.Status.OPEN  # the record still needs a child
    twins.load(CB, [nameless(as_at="2026-09-15")])  # sent again, changed
    # Alike to both twins it waited; with Amelia ruled out only Isla is proposed. Without
    # a given name, among twins, the model does not link it: a person does.
    record = twins.record(CB, "CB1")
    assert record.child is None
    item.refresh_from_db()
    assert item.status == ReviewItem.Status.DECIDED
    again = twins.item(CB, "CB1")
    proposed = about(again).child_ids()
    assert proposed == {twins.child(NHS, "N2").pk}


def test_a_candidate_marked_not_a_match_cannot_be_linked(twins: Registry) -> None:
    item = twins.item(CB, "CB1")
    review.not_a_match(str(item.pk), "1", "Alice Ward")
    before = snapshot()
    with pytest.raises(ReviewError, match="not a match"):
        review.link(str(item.pk), "1", "Alice Ward")
    assert snapshot() == before


@pytest.fixture
def two_children(registry: Registry) -> Registry:
    """Amelia with a GP and a school record; Ola, shielded, with a GP record."""
    registry.load(NHS, [nhs("N1"), ola(sensitive="Y")])
    registry.load("school_census", [school("S1", nhs_number="4010232137", upn="B801200005001")])
    return registry


def test_merge_then_unmerge_restores_the_golden_records_and_cpids(
    two_children: Registry,
) -> None:
    keep, gone = two_children.child(NHS, "N1"), two_children.child(NHS, "N3")
    before = {c: golden_record(c) for c in (keep.pk, gone.pk)}
    cpids = set(Child.objects.values_list("cpid", flat=True))
    merged = corrections.merge(keep.cpid, gone.cpid, "Alice Ward")
    gone.refresh_from_db()
    keep.refresh_from_db()
    assert (gone.status, gone.merged_into_id, keep.shielded) == ("merged", keep.pk, True)
    assert merged.moved == [str(two_children.record(NHS, "N3").pk)]
    assert two_children.record(NHS, "N3").child_id == keep.pk
    after = golden_record(gone.pk)
    assert after is not None and after.given_name is None  # nothing left on GONE
    unmerged = corrections.unmerge(str(merged.pk), "Bob Lee")
    assert unmerged.reverses == merged and unmerged.moved == merged.moved
    assert {c: golden_record(c) for c in (keep.pk, gone.pk)} == before
    gone.refresh_from_db()
    assert (gone.status, gone.merged_into_id) == ("active", None)
    assert set(Child.objects.values_list("cpid", flat=True)) == cpids


def test_a_merge_is_undone_only_once(two_children: Registry) -> None:
    keep, gone = two_children.child(NHS, "N1"), two_children.child(NHS, "N3")
    merged = corrections.merge(keep.cpid, gone.cpid, "Alice Ward")
    corrections.reverse(str(merged.pk), "Bob Lee")
    before = snapshot()
    with pytest.raises(ReviewError, match="already reversed"):
        corrections.unmerge(str(merged.pk), "Bob Lee")
    assert snapshot() == before


def test_an_identity_change_seals_the_old_child_and_is_never_merged_back(
    registry: Registry,
) -> None:
    registry.load(NHS, [nhs("N1")])
    registry.load(
        "school_census",
        [
            school("S0", nhs_number="4010232137", as_at="2025-10-01"),
            school("S1", nhs_number="4010232137"),
        ],
    )
    old = registry.child(NHS, "N1")
    decision, cpid = corrections.identity_change(old.cpid, "Alice Ward")
    new = Child.objects.get(cpid=cpid)
    old.refresh_from_db()
    assert (old.status, new.status, new.cpid != old.cpid) == ("sealed", "active", True)
    # Each source's newest record moves; the older school record stays with the old identity.
    assert registry.child(NHS, "N1") == new and registry.child("school_census", "S1") == new
    assert registry.child("school_census", "S0") == old
    assert review.blocked_pairs([old.pk]) == {frozenset((old.pk, new.pk))}
    assert LinkBlock.objects.get(decision=decision).reason == "identity_change"
    before = snapshot()
    for keep, gone in ((old, new), (new, old)):
        with pytest.raises(ReviewError, match="old and new identity"):
            corrections.merge(keep.cpid, gone.cpid, "Bob Lee")
    assert snapshot() == before


def test_an_automatic_link_is_reversed_and_the_record_waits_again(registry: Registry) -> None:
    registry.load(NHS, [nhs("N1")])
    amelia = registry.child(NHS, "N1")
    alone = golden_record(amelia.pk)
    registry.load(CB, [benefit("CB1", nhs_number="4010232137", given_name="Millie")])
    assert registry.child(CB, "CB1") == amelia
    auto = LinkDecision.objects.get(action="auto_link")
    assert auto.decided_by == LinkDecision.AUTOMATIC
    unlinked = corrections.reverse(str(auto.pk), "Alice Ward")
    record = registry.record(CB, "CB1")
    assert (record.status, record.child_id, unlinked.action) == ("pending", None, "unlink")
    assert unlinked.reverses == auto and unlinked.other_child_id == amelia.pk
    assert golden_record(amelia.pk) == alone
    assert DataKey.objects.filter(owner_id=record.pk).exists()  # sealed under its own key
    item = registry.item(CB, "CB1")
    assert amelia.pk in about(item).child_ids()
    before = snapshot()
    with pytest.raises(ReviewError, match="already reversed"):
        corrections.reverse(str(auto.pk), "Alice Ward")
    assert snapshot() == before
    corrections.reverse(str(unlinked.pk), "Bob Lee")  # and back again
    assert registry.child(CB, "CB1") == amelia
    item.refresh_from_db()
    assert item.status == ReviewItem.Status.DECIDED


def test_unlink_takes_a_record_off_its_child_into_review(two_children: Registry) -> None:
    school_record = two_children.record("school_census", "S1")
    amelia = two_children.child(NHS, "N1")
    decision, item_id = review.unlink(str(school_record.pk), "Alice Ward")
    school_record.refresh_from_db()
    assert (school_record.status, decision.other_child_id) == ("pending", amelia.pk)
    assert (school_record.preferred, school_record.history) == (0, None)
    assert ReviewItem.objects.get(pk=item_id).status == ReviewItem.Status.OPEN


def test_a_not_a_match_is_reversed_and_the_child_may_be_proposed_again(twins: Registry) -> None:
    item = twins.item(CB, "CB1")
    decision = review.not_a_match(str(item.pk), "1", "Alice Ward")
    corrections.reverse(str(decision.pk), "Bob Lee")
    assert not LinkBlock.objects.exists()
    review.link(str(item.pk), "1", "Alice Ward")
    assert twins.child(CB, "CB1").cpid == review.item_view(str(item.pk)).candidates[0].cpid


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda i, c, o: review.link(str(uuid.uuid4()), c, "A"), "unknown review item"),
        (lambda i, c, o: review.link("nope", c, "A"), "unknown review item"),
        (lambda i, c, o: review.link(i, new_cpid(), "A"), "unknown contactpoint ID"),
        (lambda i, c, o: review.link(i, "CP-0000", "A"), "not a contactpoint ID"),
        (lambda i, c, o: review.link(i, o, "A"), "is not a candidate"),
        (lambda i, c, o: review.link(i, "9", "A"), "has no candidate 9"),
        (lambda i, c, o: review.link(i, c, "  "), "--by must name"),
        (lambda i, c, o: review.not_a_match(i, o, "A"), "is not a candidate"),
        (lambda i, c, o: corrections.reverse(str(uuid.uuid4()), "A"), "unknown decision"),
        (lambda i, c, o: corrections.merge(c, new_cpid(), "A"), "unknown contactpoint ID"),
        (lambda i, c, o: corrections.merge(c, c, "A"), "with itself"),
        (lambda i, c, o: corrections.unmerge(str(uuid.uuid4()), "A"), "unknown decision"),
        (lambda i, c, o: review.unlink(str(uuid.uuid4()), "A"), "unknown source record"),
        (lambda i, c, o: corrections.identity_change(new_cpid(), "A"), "unknown contactpoint"),
    ],
)
def test_a_refused_decision_changes_nothing(twins: Registry, call: object, message: str) -> None:
    twins.load(NHS, [ola()])
    item, amelia, other = (
        str(twins.item(CB, "CB1").pk),
        twins.child(NHS, "N1").cpid,
        twins.child(NHS, "N3").cpid,
    )
    before = snapshot()
    with pytest.raises(ReviewError, match=message):
        call(item, amelia, other)  # type: ignore[operator]
    assert snapshot() == before


def test_a_decided_item_cannot_be_decided_again(twins: Registry) -> None:
    item = str(twins.item(CB, "CB1").pk)
    review.link(item, "1", "Alice Ward")
    before = snapshot()
    for decide in (
        lambda: review.link(item, "2", "Bob Lee"),
        lambda: review.new_child(item, "Bob Lee"),
        lambda: review.not_a_match(item, "2", "Bob Lee"),
    ):
        with pytest.raises(ReviewError, match="already decided"):
            decide()
    assert snapshot() == before
    assert child_ids() == {c for c in before["golden"]}


def test_an_identity_change_is_reversed(registry: Registry) -> None:
    registry.load(NHS, [nhs("N1")])
    old = registry.child(NHS, "N1")
    before = golden_record(old.pk)
    decision, cpid = corrections.identity_change(old.cpid, "Alice Ward")
    undone = corrections.reverse(str(decision.pk), "Bob Lee")
    old.refresh_from_db()
    new = Child.objects.get(cpid=cpid)
    assert (old.status, new.status, new.merged_into_id) == ("active", "merged", old.pk)
    assert undone.reverses == decision and not LinkBlock.objects.exists()
    assert golden_record(old.pk) == before


def test_a_new_child_made_in_review_is_reversed(twins: Registry) -> None:
    item = twins.item(CB, "CB1")
    made, _ = review.new_child(str(item.pk), "Alice Ward")
    unlinked = corrections.reverse(str(made.pk), "Bob Lee")
    record = twins.record(CB, "CB1")
    assert (record.status, unlinked.other_child_id) == ("pending", made.child_id)
    assert twins.item(CB, "CB1").pk != item.pk  # waiting again, in a new item


def test_a_hold_is_not_reversed(twins: Registry) -> None:
    hold = LinkDecision.objects.get(action="hold")
    with pytest.raises(ReviewError, match="deciding its review item"):
        corrections.reverse(str(hold.pk), "Alice Ward")


def test_a_record_near_a_shielded_child_who_is_no_candidate_never_becomes_a_new_child(
    registry: Registry,
) -> None:
    registry.load(NHS, [isla(sensitive="Y")])
    registry.load(CB, [misspelt()])
    item = registry.item(CB, "CB3")
    # As the near-shielded net alone holds a record: an item with no candidate to rule out.
    reseal(item, About(about(item).reason))
    before = snapshot()
    with pytest.raises(ReviewError, match="not among its candidates"):
        review.new_child(str(item.pk), "Alice Ward")
    assert snapshot() == before
