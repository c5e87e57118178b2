"""Re-running bulk linkage links what waits and merges duplicates, and renumbers no one.

The registry is loaded with an over-cautious model (it links nothing on its own), so
every record of a child arriving later waits or founds a duplicate; a re-run with the
usual thresholds must then put each true child back together, keep the first child's
contactpoint ID, record every change, and change nothing when run again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contactpoint.ingest.loader import load_folder
from contactpoint.linkage import rerun, store
from contactpoint.linkage.models import LinkageModel, LinkDecision, ReviewItem
from contactpoint.linkage.review_items import about
from contactpoint.registry.models import Child, SourceRecord
from tests.linkage.scenarios import Registry, benefit, isla, nhs
from tests.support.feeds import AMELIA as AMELIA_WITH_NHS_NUMBER
from tests.support.feeds import feed_row, write_feed

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

# The shared Amelia, without her NHS number: each test gives her the identifiers it needs.
AMELIA = {k: v for k, v in AMELIA_WITH_NHS_NUMBER.items() if k != "nhs_number"} | {
    "as_at": "2026-11-01"
}
OSCAR = {
    **AMELIA,
    "given_name": "Oscar",
    "family_name": "Bell",
    "date_of_birth": "2013-07-21",
    "sex": "M",
    "postcode": "E2 7QA",
}


def _cautious() -> None:
    """Make the active model link nothing and send nothing to review."""
    store.active()
    LinkageModel.objects.filter(active=True).update(upper_weight=1000.0, lower_weight=999.0)
    store._cache.clear()


def _usual() -> None:
    LinkageModel.objects.filter(active=True).update(
        upper_weight=store.DEFAULT_UPPER, lower_weight=store.DEFAULT_LOWER
    )
    store._cache.clear()


def test_a_rerun_merges_duplicates_into_the_first_child_and_is_idempotent(feeds: Path) -> None:
    _cautious()
    write_feed(
        feeds,
        "nhs_demographics",
        [
            feed_row(record_id="N1", nhs_number="4010232137", **AMELIA),
            feed_row(record_id="N2", nhs_number="4010232145", **OSCAR),
        ],
    )
    load_folder(feeds)
    first = dict(Child.objects.values_list("id", "cpid"))
    write_feed(
        feeds,
        "school_census",
        [
            feed_row(record_id="S1", upn="B801200005001", **{**AMELIA, "given_name": "Millie"}),
            feed_row(record_id="S2", upn="A801200005010", **OSCAR),
        ],
    )
    load_folder(feeds)
    assert Child.objects.count() == 4  # the cautious model made duplicates
    _usual()
    found = rerun.plan()
    assert (len(found.merges), found.possible_splits, found.untrusted) == (2, 0, 0)
    rerun.apply(found)
    active = Child.objects.filter(status=Child.Status.ACTIVE)
    assert dict(active.values_list("id", "cpid")) == first  # the first children, same IDs
    assert Child.objects.filter(status=Child.Status.MERGED).count() == 2
    assert SourceRecord.objects.filter(child__in=active).count() == 4
    merges = LinkDecision.objects.filter(action=LinkDecision.Action.MERGE)
    assert {d.decided_by for d in merges} == {LinkDecision.AUTOMATIC} and merges.count() == 2
    again = rerun.plan()
    assert (again.links, again.merges) == ([], [])


def test_a_rerun_leaves_shielded_duplicates_to_a_person(feeds: Path) -> None:
    _cautious()
    write_feed(feeds, "school_census", [feed_row(record_id="S1", upn="B801200005001", **AMELIA)])
    load_folder(feeds)
    write_feed(
        feeds,
        "nhs_demographics",
        [feed_row(record_id="N1", nhs_number="4010232137", sensitive="Y", **AMELIA)],
    )
    load_folder(feeds)
    # Two children, both shielded: the sensitive record shields what it might be.
    assert sum(c.shielded for c in Child.objects.all()) == 2
    _usual()
    found = rerun.plan()
    assert found.merges == [] and found.left_for_people == 1


def test_a_rerun_leaves_a_record_held_near_a_shielded_child_to_a_person(feeds: Path) -> None:
    """A record held because it might be a shielded child waits with method `review` like
    any other: the re-run knows it by its sealed review item and does not link it, though
    Splink clusters it with the one child it is most like."""
    registry = Registry(feeds)
    registry.load("nhs_demographics", [nhs("N1"), isla(sensitive="Y")])
    registry.load("child_benefit", [benefit("CB1")])
    held = registry.record("child_benefit", "CB1")
    assert (held.status, held.method) == ("pending", "review")
    assert about(registry.item("child_benefit", "CB1")).reason == "shielded"
    assert held.pk not in {record for record, _ in rerun.plan().links}


def test_a_rerun_leaves_a_record_too_thin_to_match_to_the_person_asked(feeds: Path) -> None:
    """A nameless record without an identifier waits as `insufficient`; Splink clusters it
    with the one child it is like, and the re-run still does not answer for the person."""
    _cautious()
    write_feed(
        feeds, "nhs_demographics", [feed_row(record_id="N1", nhs_number="4010232137", **AMELIA)]
    )
    load_folder(feeds)
    write_feed(feeds, "child_benefit", [feed_row(record_id="C1", **{**AMELIA, "given_name": ""})])
    load_folder(feeds)
    thin = SourceRecord.objects.get(child__isnull=True)
    assert about(ReviewItem.objects.get(source_record=thin)).reason == "insufficient"
    _usual()
    assert rerun.plan().links == []
