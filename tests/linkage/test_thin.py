"""Records too thin to match safely: linked only when the model is sure, otherwise waiting
for a person as `insufficient`; founding a child only where nothing is near and the record
tells brothers and sisters apart (a birth date where the population holds no twins); and
no waiting record carries a reason it does not have (a `review_band` item with no
candidates)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from contactpoint.ingest.batch import founding_keys
from contactpoint.linkage import review, store
from contactpoint.linkage.decisions import waiting_reason
from contactpoint.linkage.models import ReviewItem
from contactpoint.linkage.realtime import Match, Matcher, tells_apart, too_thin
from contactpoint.linkage.records import from_feed
from contactpoint.linkage.review import ReviewError
from contactpoint.linkage.review_items import about
from contactpoint.registry import payloads
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.feeds import FeedRecord, RowParser
from contactpoint.registry.models import Child, SourceRecord
from tests.linkage.scenarios import Registry, benefit, isla, nameless, nhs, snapshot

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

CB, NHS = "child_benefit", "nhs_demographics"
TODAY = dt.date(2026, 11, 20)


def feed(row: dict[str, str], **changes: Any) -> FeedRecord:
    """A parsed row, then any field changed in its canonical form (a date of birth left
    out, as a loader that keeps rows without one gives it)."""
    record = RowParser(TODAY).parse(row)
    assert record is not None
    return FeedRecord.from_canonical({**record.canonical(), **changes})


def match(record: FeedRecord) -> Match:
    sr = uuid.uuid4()
    return Matcher().match([(sr, record, from_feed(str(sr), record))])[0]


def set_no_twins() -> None:
    """The active model holds that the population has no twins (its twin rule set aside,
    as a model trained across sources with none is stored)."""
    record = store.active().record
    record.figures = {**(record.figures or {}), "twin_rule": False}
    record.save(update_fields=["figures"])
    store._cache.clear()
    assert not store.active().twin_rule


@pytest.fixture
def no_twins() -> None:
    set_no_twins()


@pytest.fixture
def amelia(feeds: Path) -> uuid.UUID:
    registry = Registry(feeds)
    registry.load(NHS, [nhs("N1")])
    return registry.child(NHS, "N1").pk


def test_too_thin_is_no_birth_date_or_neither_given_name_nor_identifier() -> None:
    full = feed(benefit("CB1"))
    assert not too_thin(from_feed("a", full))
    assert too_thin(from_feed("a", feed(benefit("CB1"), date_of_birth=None)))
    assert too_thin(from_feed("a", feed(benefit("CB1", given_name="Baby"))))
    with_id = feed(nhs("N9", given_name=""))
    assert not too_thin(from_feed("a", with_id))
    assert too_thin(from_feed("a", feed(nhs("N9"), date_of_birth=None)))


def test_a_thin_record_never_founds_a_child() -> None:
    thin = feed(nhs("N9"), date_of_birth=None)  # an NHS number alone founds no child
    assert founding_keys(thin, from_feed("a", thin)) == []
    full = feed(nhs("N9"))
    assert founding_keys(full, from_feed("a", full)) == [("nhs_number", full.nhs_number)]


def test_a_nameless_record_founds_a_child_alone_only_where_no_twins_are() -> None:
    nameless_dated = feed(nameless("CB1"))
    link = from_feed("a", nameless_dated)
    assert founding_keys(nameless_dated, link, twin_rule=True) == []
    assert founding_keys(nameless_dated, link, twin_rule=False) != []
    undated = feed(nameless("CB1"), date_of_birth=None)
    assert founding_keys(undated, from_feed("a", undated), twin_rule=False) == []


@pytest.mark.usefixtures("no_twins")
def test_two_nameless_records_of_one_child_meet_where_no_twins_are(feeds: Path) -> None:
    """Neither has a given name: the first founds a child, as nothing is near it, and the
    second, from another system, joins it (they used to wait apart, never meeting)."""
    registry = Registry(feeds)
    registry.load(CB, [nameless("CB1")])
    founded = registry.child(CB, "CB1")
    registry.load(NHS, [nameless("N1", nhs_number="", as_at="2026-11-01")])
    assert registry.child(NHS, "N1") == founded
    assert Child.objects.count() == 1


def test_a_nameless_record_left_waiting_joins_the_child_a_later_one_founds(feeds: Path) -> None:
    """The first file loads while twins may be (it waits); the model then holds that the
    population has none, so the second file's nameless record founds a child, and the
    load ends by matching the waiting one again: it joins."""
    registry = Registry(feeds)
    registry.load(CB, [nameless("CB1")])
    assert about(registry.item(CB, "CB1")).reason == "insufficient"
    set_no_twins()
    registry.load(NHS, [nameless("N1", nhs_number="", as_at="2026-11-01")])
    assert registry.child(CB, "CB1") == registry.child(NHS, "N1")


@pytest.mark.usefixtures("no_twins")
def test_a_brothers_nameless_record_does_not_join_the_nameless_child(feeds: Path) -> None:
    """Same family name and home, another birth date: his own child, never hers."""
    registry = Registry(feeds)
    registry.load(CB, [nameless("CB1")])
    registry.load(NHS, [nameless("N1", nhs_number="", date_of_birth="2017-08-14")])
    assert registry.child(NHS, "N1") != registry.child(CB, "CB1")


def test_nameless_records_wait_apart_where_twins_may_be(feeds: Path) -> None:
    registry = Registry(feeds)
    registry.load(CB, [nameless("CB1")])
    registry.load(NHS, [nameless("N1", nhs_number="")])
    assert (
        about(registry.item(CB, "CB1")).reason
        == about(registry.item(NHS, "N1")).reason
        == "insufficient"
    )
    assert not Child.objects.exists()


def test_a_thin_record_is_linked_when_the_model_is_sure(amelia: uuid.UUID) -> None:
    # No birth date, no NHS number: her names, postcode and sex, and no other child near.
    found = match(feed(benefit("CB1"), date_of_birth=None))
    assert (found.action, found.child_id) == ("link", amelia)
    found = match(feed(nhs("N9"), date_of_birth=None))  # with her NHS number
    assert (found.action, found.child_id) == ("link", amelia)


def test_a_sisters_record_without_a_birth_date_does_not_join_through_a_nickname(
    amelia: uuid.UUID,
) -> None:
    """ "Mia" is a nickname of "Amelia", and a sister's name: with no birth date to tell
    them apart, only the same given name (or a slip of it) links."""
    found = match(feed(benefit("CB1", given_name="Mia"), date_of_birth=None))
    assert found.action == "review" and found.reason == "insufficient"
    assert [c.child_id for c in found.candidates] == [amelia]
    slipped = match(feed(benefit("CB2", given_name="Amleia"), date_of_birth=None))
    assert (slipped.action, slipped.child_id) == ("link", amelia)


def test_a_record_with_no_birth_date_and_no_given_name_is_never_linked(
    amelia: uuid.UUID,
) -> None:
    """Family name and address are the household's: with no other child of it registered
    yet, a brother's record would join her. It waits with her as its candidate."""
    found = match(feed(nameless("CB1"), date_of_birth=None))
    assert (found.action, found.reason) == ("review", "insufficient")
    assert [c.child_id for c in found.candidates] == [amelia]


def test_a_record_with_no_given_name_is_linked_only_where_no_twins_are(
    amelia: uuid.UUID,
) -> None:
    """With her birth date too, her twin sister's record would look the same: linked by
    the model only when the model holds that the population has no twins."""
    found = match(feed(nameless("CB1")))
    assert (found.action, found.reason) == ("review", "insufficient")
    assert [c.child_id for c in found.candidates] == [amelia]
    nameless_dated = from_feed("n", feed(nameless("CB1")))
    assert not tells_apart(nameless_dated) and tells_apart(nameless_dated, twin_rule=False)
    assert tells_apart(from_feed("n", feed(benefit("CB1"), date_of_birth=None)))
    assert tells_apart(from_feed("n", feed(nhs("N9", given_name=""))))


def test_a_thin_record_waits_with_the_children_its_other_fields_found(feeds: Path) -> None:
    """No birth date and no given name, beside twins: postcode district and family name
    find both, and a person decides."""
    registry = Registry(feeds)
    registry.load(NHS, [nhs("N1"), isla()])
    found = match(feed(nameless("CB1"), date_of_birth=None))
    assert (found.action, found.reason) == ("review", "insufficient")
    twins = {registry.child(NHS, "N1").pk, registry.child(NHS, "N2").pk}
    assert {c.child_id for c in found.candidates} == twins


def test_a_thin_record_with_nothing_to_go_on_waits_and_makes_no_child(amelia: uuid.UUID) -> None:
    found = match(
        feed(benefit("CB1", family_name="Quint", postcode="SW1A 1AA"), date_of_birth=None)
    )
    assert (found.action, found.reason, found.candidates) == ("review", "insufficient", [])


def test_a_nameless_record_of_no_known_family_waits_as_insufficient_not_review_band(
    feeds: Path,
) -> None:
    """The model finds no child for it and it can found none: it used to wait in a
    `review_band` item with no candidates."""
    registry = Registry(feeds)
    registry.load(CB, [nameless("CB1", family_name="Quint", postcode="SW1A 1AA")])
    item = registry.item(CB, "CB1")
    assert (about(item).reason, len(about(item).candidates)) == ("insufficient", 0)
    assert not Child.objects.exists()


def test_every_waiting_reason_is_one_the_record_has() -> None:
    assert waiting_reason("review", Match("review", reason="runner_up")) == "runner_up"
    assert waiting_reason("near_shielded", Match("hold", reason="shielded")) == "shielded"
    # The model would have made a new child: the loader held it, or it could found none.
    assert waiting_reason("near_shielded", Match("new")) == ReviewItem.Reason.SHIELDED
    assert waiting_reason("none", Match("new")) == ReviewItem.Reason.INSUFFICIENT


def _without_birth_date(sr: SourceRecord) -> None:
    """Seal the waiting record's payload again without its date of birth (what a loader
    that keeps such rows writes)."""
    cipher = ciphers_for({sr.pk})[sr.pk]
    doc = json.loads(payloads.open_payload(cipher, sr.pk, sr.payload) or "{}")
    body = json.dumps({**doc, "date_of_birth": None}, sort_keys=True)
    sr.payload = payloads.seal(cipher, sr.pk, body)
    sr.save(update_fields=["payload"])


def test_a_person_cannot_make_a_child_of_a_record_without_a_birth_date(feeds: Path) -> None:
    registry = Registry(feeds)
    registry.load(CB, [nameless("CB1", family_name="Quint", postcode="SW1A 1AA")])
    _without_birth_date(registry.record(CB, "CB1"))
    item = str(registry.item(CB, "CB1").pk)
    before = snapshot()
    with pytest.raises(ReviewError, match="no date of birth: a child needs one"):
        review.new_child(item, "Alice Ward")
    assert snapshot() == before


def test_a_person_rules_out_a_candidate_of_a_record_without_a_birth_date(feeds: Path) -> None:
    registry = Registry(feeds)
    registry.load(NHS, [nhs("N1"), isla()])
    registry.load(CB, [nameless("CB1")])  # like both twins: waits
    _without_birth_date(registry.record(CB, "CB1"))
    item = registry.item(CB, "CB1")
    assert about(item).reason == "insufficient"
    isla_child = registry.child(NHS, "N2")
    review.not_a_match(str(item.pk), isla_child.cpid, "Alice Ward")
    record = registry.record(CB, "CB1")
    assert review.record_blocks(record.pk) == {isla_child.pk}
    assert registry.item(CB, "CB1").pk == item.pk  # still open: it still needs a child
