"""Loading feeds: linkage by identifier, quarantine, idempotence, survivorship, shielding."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactpoint.ingest.loader import FeedError, load_folder
from contactpoint.ingest.models import LoadedFile, QuarantinedRow
from contactpoint.keystore.models import DataKey
from contactpoint.linkage.comparisons import COMPARISONS
from contactpoint.linkage.models import ReviewItem
from contactpoint.linkage.review_items import about
from contactpoint.registry.golden import golden_record
from contactpoint.registry.involvement_facts import with_links
from contactpoint.registry.models import BlindIndexEntry, Child, Involvement, SourceRecord
from tests.support.children import roles_of
from tests.support.feeds import AMELIA, feed_row, write_feed
from tests.support.registry import records_from

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def nhs(record_id: str = "N1", **values: str) -> dict[str, str]:
    base = {"as_at": "2026-11-01", "org_code": "A81001", "org_role": "gp", **AMELIA}
    return feed_row(record_id=record_id, **{**base, **values})


def school(record_id: str = "S1", **values: str) -> dict[str, str]:
    base = {
        **AMELIA,
        "given_name": "Amy",
        "nhs_number": "",
        "upn": "B801200005001",
        "as_at": "2026-10-01",
        "org_code": "100001",
        "org_role": "school",
    }
    return feed_row(record_id=record_id, **{**base, **values})


def test_records_with_the_same_identifier_become_one_child(feeds: Path) -> None:
    write_feed(feeds, "nhs_demographics", [nhs()])
    write_feed(feeds, "school_census", [school(nhs_number="4010232137")])
    report = load_folder(feeds)
    assert report.result.children_created == 1
    assert Child.objects.count() == 1
    assert set(SourceRecord.objects.values_list("method", flat=True)) == {"new_child", "model"}
    rows = with_links(Involvement.objects.order_by("pk"))
    roles = {(role, i.organisation.code) for i, role in zip(rows, roles_of(rows), strict=True)}
    assert roles == {("gp", "A81001"), ("school", "100001")}


def test_the_golden_record_prefers_the_nhs_feed_and_keeps_provenance(feeds: Path) -> None:
    write_feed(feeds, "nhs_demographics", [nhs()])
    write_feed(
        feeds, "school_census", [school(nhs_number="4010232137", date_of_birth="2015-04-03")]
    )
    load_folder(feeds)
    record = golden_record(Child.objects.get().id)
    assert record is not None and record.given_name and record.date_of_birth and record.upn
    assert (record.given_name.value, record.given_name.provenance.source) == (
        "Amelia",
        "nhs_demographics",
    )
    assert record.date_of_birth.value == "2015-03-04"
    assert (record.upn.value, record.upn.provenance.source) == ("B801200005001", "school_census")
    assert str(record.upn.provenance.as_at) == "2026-10-01"


def test_loading_the_same_folder_twice_changes_nothing(feeds: Path) -> None:
    write_feed(
        feeds, "nhs_demographics", [nhs(), nhs("N2", nhs_number="4010232145", given_name="Ola")]
    )
    load_folder(feeds)
    before = (
        Child.objects.count(),
        SourceRecord.objects.count(),
        BlindIndexEntry.objects.count(),
        DataKey.objects.count(),
        Involvement.objects.count(),
    )
    again = load_folder(feeds)
    assert again.files_already_loaded == 2 - 1  # one feed file; organisations are upserted
    assert again.result.loaded == 0
    after = (
        Child.objects.count(),
        SourceRecord.objects.count(),
        BlindIndexEntry.objects.count(),
        DataKey.objects.count(),
        Involvement.objects.count(),
    )
    assert before == after == (2, 2, after[2], 2, 2)


def test_an_unchanged_record_in_a_new_file_is_recognised(feeds: Path) -> None:
    write_feed(feeds, "nhs_demographics", [nhs()], part=0)
    load_folder(feeds)
    write_feed(feeds, "nhs_demographics", [nhs(), nhs("N2", nhs_number="4010232145")], part=1)
    report = load_folder(feeds)
    assert (report.result.unchanged, report.result.loaded) == (1, 1)


def test_a_changed_record_updates_facts_and_keeps_the_old_address(feeds: Path) -> None:
    write_feed(feeds, "nhs_demographics", [nhs()], part=0)
    load_folder(feeds)
    write_feed(
        feeds,
        "nhs_demographics",
        [nhs(as_at="2026-11-20", postcode="M1 1AE", address_line1="9 Oak Street")],
        part=1,
    )
    load_folder(feeds)
    child = Child.objects.get()
    record = golden_record(child.id)
    assert record is not None and record.postcode is not None
    assert record.postcode.value == "M1 1AE"
    from contactpoint.registry import record_facts
    from contactpoint.registry.models import SourceRecord

    sr = SourceRecord.objects.get(child=child)
    cipher = record_facts.ciphers_for({child.pk})[child.pk]
    (previous,) = record_facts.history_of(cipher, sr.pk, sr.history)
    assert (previous.line1, previous.postcode) == ("3 Elm Road", "NW1 3AB")
    assert previous.ended_on.isoformat() == "2026-11-20"


def test_bad_rows_are_quarantined_and_good_rows_go_on(feeds: Path) -> None:
    write_feed(
        feeds,
        "nhs_demographics",
        [
            nhs("N1"),
            nhs("N2", family_name="", nhs_number="4010232145"),
            nhs("N3", as_at="2026-02-30", nhs_number="4010232153"),
            nhs("N4", nhs_number="4010232138", given_name="Kai"),
            nhs("N5", org_code="999999", nhs_number="4010232161"),
        ],
    )
    report = load_folder(feeds)
    assert (report.result.loaded, report.result.rejected, report.result.fields_ignored) == (2, 3, 1)
    entries = set(QuarantinedRow.objects.values_list("line", "field", "severity"))
    assert entries == {
        (3, "family_name", "rejected"),
        (4, "as_at", "rejected"),
        (5, "nhs_number", "field_ignored"),
        (6, "org_code", "rejected"),
    }
    assert LoadedFile.objects.get().rows_quarantined == 3


def test_a_nickname_links_a_record_without_identifiers(feeds: Path) -> None:
    write_feed(feeds, "nhs_demographics", [nhs()])
    benefit = {**AMELIA, "nhs_number": "", "given_name": "Millie"}
    write_feed(feeds, "child_benefit", [feed_row(record_id="CB1", as_at="2026-09-01", **benefit)])
    load_folder(feeds)
    assert Child.objects.count() == 1
    assert records_from("child_benefit").get().method == "model"


def test_an_update_keeps_the_confidence_its_record_was_linked_with(feeds: Path) -> None:
    write_feed(feeds, "nhs_demographics", [nhs()])
    benefit = {**AMELIA, "nhs_number": "", "given_name": "Millie"}
    write_feed(feeds, "child_benefit", [feed_row(record_id="CB1", as_at="2026-09-01", **benefit)])
    load_folder(feeds)
    first = records_from("child_benefit").get().confidence
    moved = {**benefit, "address_line1": "9 Oak Street", "postcode": "NW1 4AA"}
    write_feed(
        feeds,
        "child_benefit",
        [feed_row(record_id="CB1", as_at="2026-10-01", **moved)],
        part=1,
    )
    load_folder(feeds)
    record = records_from("child_benefit").get()
    assert record.as_at.isoformat() == "2026-10-01"  # the update was loaded
    assert 0.5 < first < 1.0 and record.confidence == first


def test_a_record_the_model_cannot_decide_waits_for_review_instead_of_duplicating(
    feeds: Path,
) -> None:
    write_feed(feeds, "nhs_demographics", [nhs()])
    # Another given name, no identifier: a twin, or the same child under another name.
    benefit = {**AMELIA, "nhs_number": "", "given_name": "Grace"}
    write_feed(feeds, "child_benefit", [feed_row(record_id="CB1", as_at="2026-09-01", **benefit)])
    load_folder(feeds)
    assert Child.objects.count() == 1
    pending = SourceRecord.objects.get(status="pending")
    assert pending.child_id is None and pending.method == "review"
    assert DataKey.objects.filter(owner_id=pending.pk).exists()  # sealed under its own key
    item = ReviewItem.objects.get(source_record=pending)
    assert [c.child_id for c in about(item).candidates] == list(
        Child.objects.values_list("id", flat=True)
    )
    # What a review candidate stores is the model's own vocabulary and numbers, nothing else.
    labels = {(c.name, level.label) for c in COMPARISONS for level in c.levels}
    for candidate in about(item).candidates:
        parts = candidate.contributions
        assert len(parts) == len(COMPARISONS)
        assert all((name, level) in labels and isinstance(w, float) for name, level, w in parts)


def test_the_same_name_and_birth_date_links_a_record_without_identifiers(feeds: Path) -> None:
    write_feed(feeds, "nhs_demographics", [nhs()])
    benefit = {**AMELIA, "nhs_number": "", "given_name": "AMELIA", "family_name": "hartley"}
    write_feed(feeds, "child_benefit", [feed_row(record_id="CB1", as_at="2026-09-01", **benefit)])
    load_folder(feeds)
    assert Child.objects.count() == 1
    assert records_from("child_benefit").get().method == "model"


def test_a_different_valid_nhs_number_is_never_linked_by_the_model(feeds: Path) -> None:
    write_feed(feeds, "nhs_demographics", [nhs()])
    write_feed(feeds, "school_census", [school(given_name="Amelia", nhs_number="4010232145")])
    load_folder(feeds)
    # Everything else agrees, so it is not a new child either: a person decides.
    assert Child.objects.count() == 1
    record = records_from("school_census").get()
    assert (record.status, record.method) == ("pending", "review")


def test_twins_stay_two_children_and_an_ambiguous_record_waits(feeds: Path) -> None:
    write_feed(
        feeds,
        "nhs_demographics",
        [
            nhs("N1"),
            nhs("N2", given_name="Isla", nhs_number="4010232145"),
            nhs("N3", given_name="Isla", nhs_number="4010232153"),
        ],
    )
    write_feed(
        feeds,
        "child_benefit",
        [
            feed_row(record_id="CB1", as_at="2026-09-01", **{**AMELIA, "nhs_number": ""}),
            feed_row(
                record_id="CB2",
                as_at="2026-09-01",
                **{**AMELIA, "nhs_number": "", "given_name": "Isla"},
            ),
        ],
    )
    load_folder(feeds)
    assert Child.objects.count() == 3
    methods = dict(records_from("child_benefit").values_list("method", "status"))
    assert methods == {"model": "linked", "review": "pending"}
    item = ReviewItem.objects.get(status="open")
    assert (about(item).reason, len(about(item).candidates)) == ("several", 3)


def test_a_waiting_record_is_linked_when_an_identifier_arrives(feeds: Path) -> None:
    write_feed(feeds, "nhs_demographics", [nhs()])
    write_feed(feeds, "school_census", [school(upn="")], part=0)
    load_folder(feeds)
    waiting = SourceRecord.objects.get(status="pending")
    write_feed(feeds, "school_census", [school(upn="", nhs_number="4010232137")], part=1)
    load_folder(feeds)
    waiting.refresh_from_db()
    assert waiting.status == "linked"
    assert not DataKey.objects.filter(owner_id=waiting.pk).exists()


def test_a_sensitive_flag_shields_the_child_and_no_feed_unshields(feeds: Path) -> None:
    write_feed(feeds, "nhs_demographics", [nhs(sensitive="Y")], part=0)
    load_folder(feeds)
    write_feed(feeds, "nhs_demographics", [nhs(sensitive="N", as_at="2026-11-21")], part=1)
    load_folder(feeds)
    assert Child.objects.get().shielded is True


def test_a_pupil_who_moves_school_ends_the_old_involvement(feeds: Path) -> None:
    extra = "200002,school,Hillside Academy,E09000007,Camden,5 Hill Road,London,NW1 5AB,,\n"
    write_feed(feeds, "school_census", [school()], part=0)
    with (feeds / "organisations.csv").open("a", encoding="utf-8") as handle:
        handle.write(extra)
    load_folder(feeds)
    write_feed(feeds, "school_census", [school(org_code="200002", as_at="2026-11-15")], part=1)
    load_folder(feeds)
    rows = {(i.organisation.code, i.end_date) for i in with_links(Involvement.objects.all())}
    assert {(c, str(d) if d else None) for c, d in rows} == {
        ("100001", "2026-11-15"),
        ("200002", None),
    }
    assert {
        i.ending for i in with_links(Involvement.objects.all()) if i.organisation.code == "100001"
    } == {"moved"}


def test_a_file_with_the_wrong_header_is_refused_whole(feeds: Path) -> None:
    path = write_feed(feeds, "nhs_demographics", [nhs()])
    path.write_text("record_id,name\nN1,Amelia\n", encoding="utf-8")
    with pytest.raises(FeedError, match="header"):
        load_folder(feeds)
    assert Child.objects.count() == 0


def test_a_row_with_missing_columns_is_quarantined(feeds: Path) -> None:
    path = write_feed(feeds, "nhs_demographics", [nhs()])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("N9,2026-11-01,Kai\n")
    load_folder(feeds)
    assert list(QuarantinedRow.objects.values_list("line", "field")) == [(3, "row")]
    assert Child.objects.count() == 1


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="not a folder"):
        load_folder(tmp_path / "nowhere")
    with pytest.raises(FeedError, match=r"no organisations\.csv"):
        load_folder(tmp_path)


def test_a_record_that_might_be_a_shielded_child_is_held_not_published(feeds: Path) -> None:
    write_feed(feeds, "nhs_demographics", [nhs(sensitive="Y", address_line1="", postcode="")])
    write_feed(
        feeds,
        "school_census",
        [
            school(),  # "Amy Hartley", same date of birth, a UPN, and the address
            school(
                "S2",
                given_name="Amelia",
                family_name="Hartly",
                date_of_birth="2015-04-03",
                upn="A801200005010",
            ),  # a typo and the day and month swapped
            school(
                "S3",
                given_name="Oscar",
                family_name="Bell",
                date_of_birth="2015-03-04",
                upn="N801200005018",
            ),  # same birthday, nobody near: a child of their own
        ],
    )
    report = load_folder(feeds)
    assert report.result.held_near_shielded == 2
    assert Child.objects.count() == 2 and sum(c.shielded for c in Child.objects.all()) == 1
    held = records_from("school_census").filter(status="pending")
    # In clear they wait like any record: only their sealed review items say why.
    assert set(held.values_list("method", flat=True)) == {"review"} and held.count() == 2
    items = ReviewItem.objects.filter(source_record__in=held)
    assert [about(i).reason for i in items] == ["shielded", "shielded"]


def test_contactpoint_ids_are_valid_and_distinct(feeds: Path) -> None:
    from contactpoint.lib.identifiers import validate_cpid

    write_feed(
        feeds,
        "nhs_demographics",
        [nhs("N1"), nhs("N2", given_name="Isla", nhs_number="4010232145")],
    )
    load_folder(feeds)
    cpids = list(Child.objects.values_list("cpid", flat=True))
    assert len(set(cpids)) == 2 and all(validate_cpid(c) == c for c in cpids)
