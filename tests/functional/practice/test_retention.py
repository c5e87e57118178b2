"""Retention (docs/retention.md): archive at 18 or 25, remove ended involvements, purge six
years on by destroying the child's data key, and who may read an archived record.

The clock moves by passing `today` (or `--today`); reading rules use the real date, so
children are archived as of a day chosen relative to it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from contactpoint.access.permissions import Role
from contactpoint.access.standing import add_months
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.audit import log as audit_log
from contactpoint.audit.models import Event
from contactpoint.audit.verify import verify
from contactpoint.ingest.loader import load_folder
from contactpoint.keystore.models import DataKey
from contactpoint.practice import involvements, retention
from contactpoint.practice.holders import STATUTORY
from contactpoint.practice.involvements import Details, alerts
from contactpoint.practice.models import Alert, ContactRequest, Handover, StatutoryAccess
from contactpoint.practice.record import View, archived_purpose, openable, record_for
from contactpoint.practice.retention import archived
from contactpoint.registry.golden import golden_record
from contactpoint.registry.lookup import NotFound, Purged
from contactpoint.registry.models import BlindIndexEntry, Child, Involvement
from tests.support.actors import Actors, signed_in, user
from tests.support.alerts import naming
from tests.support.children import found
from tests.support.cli import run_cli
from tests.support.feeds import feed_row, write_feed
from tests.support.registry import empty_registry, raw_rows
from tests.support.retention import PEOPLE, load

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

TODAY = timezone.localdate()
NURSE = Details("school_nurse", "School nurse", "020 7946 0101")
EXPLANATION = "Serious case review SCR-2026-014 for the borough"
TABLE = "practice_statutoryaccess"


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load(feeds)


def nurse(actor: Actor, child: Child) -> Involvement:
    """The actor's school nurse registers with the child (found by a search first)."""
    found(actor, child)
    return involvements.register(actor, child, NURSE)


def status(child: Child) -> tuple[str, dt.date | None]:
    child.refresh_from_db()
    return child.status, child.archived_on


def events(action: str) -> list[Event]:
    return list(Event.objects.filter(action=action).order_by("index"))


def test_a_child_is_archived_in_the_month_after_turning_18_and_not_before(
    children: dict[str, Child],
) -> None:
    turning = children["turning"]
    # "adult" and "leaver" (no extension recorded) are 18 already.
    assert retention.run(dt.date(2026, 5, 14)).archived == 2
    assert status(turning) == ("active", None)
    # On the birthday and the rest of its month, still active: the archive date and the
    # audit event's time would otherwise tell the day of birth.
    retention.run(dt.date(2026, 5, 31))
    assert status(turning) == ("active", None)
    report = retention.run(dt.date(2026, 6, 1))
    assert report.archived == 1 and status(turning) == ("archived", dt.date(2026, 6, 1))
    assert status(children["young"]) == ("active", None)
    archived_events = events(retention.ARCHIVE)
    assert {e.child_id for e in archived_events} == {
        children[k].pk for k in ("adult", "leaver", "turning")
    }
    assert archived_events[-1].child_id == turning.pk
    assert all(e.principal == "" and e.outcome == "allowed" for e in archived_events)


def test_a_feed_record_of_an_archived_young_person_joins_the_archived_record(
    children: dict[str, Child], tmp_path: Path
) -> None:
    """The NHS keeps sending records of young adults: each must join the archived record,
    not found a new active child (who would be searchable again until the next run)."""
    adult = children["adult"]
    retention.run(dt.date(2026, 5, 14))
    assert status(adult)[0] == "archived"
    given, family, born = PEOPLE["adult"]
    number = golden_record(adult.pk).nhs_number.value  # type: ignore[union-attr]
    later = feed_row(
        record_id="N-later",
        org_code="A81001",
        org_role="gp",
        as_at="2026-11-01",
        given_name=given,
        family_name=family,
        date_of_birth=born,
        sex="F",
        postcode="NW1 3AB",
        nhs_number=number,
    )
    write_feed(tmp_path / "later", "nhs_demographics", [later])
    load_folder(tmp_path / "later")
    assert Child.objects.count() == len(PEOPLE)
    assert status(adult)[0] == "archived"


def test_an_extension_keeps_a_record_to_25(children: dict[str, Child], actors: Actors) -> None:
    leaver = children["leaver"]
    ian, alice = Actor.of(actors.ian), Actor.of(actors.alice)
    with pytest.raises(Refused):
        archived.record_extension(alice, leaver, "care_leaver")  # not the index team
    archived.record_extension(ian, leaver, "care_leaver")
    assert events(archived.EXTEND)[0].child_id == leaver.pk
    retention.run(dt.date(2026, 12, 1))
    assert status(leaver) == ("active", None)  # 24
    retention.run(dt.date(2027, 2, 28))
    assert status(leaver) == ("active", None)  # 25 on 10 February: archived from March
    retention.run(dt.date(2027, 3, 1))
    assert status(leaver) == ("archived", dt.date(2027, 3, 1))
    with pytest.raises(Invalid, match="archived already"):
        archived.record_extension(ian, leaver, "none")


def test_ended_involvements_leave_after_12_months(
    children: dict[str, Child], actors: Actors
) -> None:
    young, alice = children["young"], Actor.of(actors.alice)
    ended = nurse(alice, young)  # alerts the GP's and school's people
    involvements.end(alice, ended.pk)
    ended_on = TODAY
    alerts_before = len(naming(ended.pk))
    kept = retention.run(add_months(ended_on, 11))
    assert kept.involvements_removed == 0 and Involvement.objects.filter(pk=ended.pk).exists()
    gone = retention.run(add_months(ended_on, 13))
    assert gone.involvements_removed == 1
    assert not Involvement.objects.filter(pk=ended.pk).exists()
    assert len(naming(ended.pk)) == 0 <= alerts_before
    assert Involvement.objects.filter(child=young).count() == 2  # the GP and the school
    event = events(retention.REMOVE)[0]
    assert event.child_id == young.pk and event.principal == ""


def lead_and_taker(child: Child, actors: Actors) -> tuple[Handover, Involvement]:
    """Alice's school nurse leads; Charlie's social worker joins and asks to take over."""
    alice, charlie = Actor.of(actors.alice), Actor.of(actors.charlie)
    involvements.become_lead(alice, nurse(alice, child).pk)
    found(charlie, child)
    taker = involvements.register(charlie, child, Details("social_worker", "Worker", "2"))
    handover = involvements.become_lead(charlie, taker.pk)
    assert handover is not None
    return handover, taker


def test_a_removed_involvement_takes_its_handovers_and_their_alerts(
    children: dict[str, Child], actors: Actors
) -> None:
    young = children["young"]
    handover, taker = lead_and_taker(young, actors)
    assert naming(handover.pk, recipient=actors.alice) and naming(taker.pk)
    involvements.end(Actor.of(actors.charlie), taker.pk)
    alerts.raise_alert([actors.bob], Alert.Kind.SHIELDING_REVIEW_DUE, child=young)
    assert retention.run(add_months(TODAY, 13)).involvements_removed == 1
    # The handover names its involvements sealed, no foreign key: removed by the tag.
    assert not Handover.objects.filter(pk=handover.pk).exists()
    # Nor their alerts, nor those about the involvement (Alice was told it joined).
    assert not naming(handover.pk) and not naming(taker.pk)
    # The child's other alerts stay.
    assert "shielding_review_due" in {o.kind for _, o in naming(young.pk, recipient=actors.bob)}


def test_a_leaving_sensitive_service_takes_its_contact_requests_and_their_alerts(
    children: dict[str, Child], actors: Actors
) -> None:
    young, alice, charlie = children["young"], Actor.of(actors.alice), Actor.of(actors.charlie)
    found(charlie, young)
    camhs = Details(
        "health_service",
        "CAMHS",
        "1",
        sensitive_category="mental_health",
        consent_basis="young_person_consent",
    )
    sensitive = involvements.register(charlie, young, camhs)
    nurse(alice, young)
    request = involvements.request_contact(alice, sensitive.pk)
    assert naming(request.pk)
    involvements.end(charlie, sensitive.pk)
    assert retention.run(add_months(TODAY, 13)).involvements_removed == 1
    # The request names its involvement by a sealed id, no foreign key: removed by its tag.
    assert not ContactRequest.objects.filter(pk=request.pk).exists()
    assert not naming(request.pk)


def test_a_child_is_purged_six_years_after_archiving_and_cannot_be_read(
    children: dict[str, Child], actors: Actors
) -> None:
    adult = children["adult"]
    # Alice's service leads, Charlie's asks to take over: alerts and a handover name it.
    handover, _ = lead_and_taker(adult, actors)
    assert naming(adult.pk) and naming(handover.pk)
    archived_on = dt.date(2026, 1, 1)
    retention.run(archived_on)
    assert status(adult) == ("archived", archived_on)
    assert retention.run(dt.date(2031, 12, 31)).purged == 0
    assert golden_record(adult.pk) is not None
    report = retention.run(dt.date(2032, 1, 1))
    assert report.purged == 2  # "adult" and "leaver", archived the same day
    adult.refresh_from_db()
    assert adult.status == "purged"
    assert golden_record(adult.pk) is None  # the key is gone: nothing opens
    assert not DataKey.objects.filter(owner_id=adult.pk).exists()
    assert not BlindIndexEntry.objects.filter(child=adult).exists()
    # Its alerts and handovers name it sealed, under no key of its own: deleted by its tag.
    assert not naming(adult.pk) and not Handover.objects.filter(pk=handover.pk).exists()
    purged = {e.child_id for e in events(retention.PURGE)}
    assert purged == {adult.pk, children["leaver"].pk}
    # Its index team is told it was purged, and nothing else; anyone else: not found.
    with pytest.raises(Purged):
        openable(actors.ian.principal(second_factor=True), adult.cpid)
    with pytest.raises(NotFound) as other:
        openable(actors.alice.principal(second_factor=True), adult.cpid)
    assert not isinstance(other.value, Purged)
    page = signed_in(actors.ian).get(f"/children/{adult.cpid}/statutory-access")
    text = page.content.decode()
    assert page.status_code == 404 and "This record was purged" in text
    assert "Ada" not in text and "Older" not in text and adult.cpid not in text
    # Younger children were left alone.
    assert golden_record(children["young"].pk) is not None


def state() -> tuple[object, ...]:
    return (
        sorted((c.pk, c.status, c.archived_on) for c in Child.objects.all()),
        sorted(Involvement.objects.values_list("id", flat=True)),
        DataKey.objects.count(),
        BlindIndexEntry.objects.count(),
        Event.objects.count(),
    )


def ended_long_ago(children: dict[str, Child], actors: Actors) -> None:
    alice = Actor.of(actors.alice)
    involvements.end(alice, nurse(alice, children["young"]).pk)


def test_a_dry_run_changes_nothing_and_counts_what_a_run_does(
    children: dict[str, Child], actors: Actors
) -> None:
    ended_long_ago(children, actors)
    retention.run(dt.date(2025, 1, 1))  # "adult" archived long ago: purged below
    day = add_months(TODAY, 13)
    before = state()
    dry = retention.run(day, dry_run=True)
    assert state() == before
    real = retention.run(day)
    # "turning" archived, the nurse's involvement removed, nobody purged yet.
    assert (
        dry == real == retention.Report(archived=1, age_unknown=0, involvements_removed=1, purged=0)
    )


def test_running_twice_changes_nothing_more(children: dict[str, Child], actors: Actors) -> None:
    ended_long_ago(children, actors)
    retention.run(dt.date(2025, 1, 1))  # "adult" and "leaver" archived
    day = dt.date(2031, 6, 1)  # both purged, "turning" archived, the nurse's removed
    first = retention.run(day)
    assert (first.archived, first.involvements_removed, first.purged) == (1, 1, 2)
    after = state()
    assert retention.run(day) == retention.Report(0, 0, 0, 0)
    assert state() == after


def broken_audit() -> None:
    """The audit table gone, as test_audit_fail_closed does."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_event RENAME TO audit_event_away")


def mended_audit() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_event_away RENAME TO audit_event")


def test_a_crash_mid_run_loses_nothing_and_a_rerun_finishes(children: dict[str, Child]) -> None:
    day = dt.date(2028, 1, 1)  # "turning" and "adult" both due (and "leaver", no extension)
    broken: list[bool] = []

    def breaks(step: str, done: int) -> None:
        """After the first child is archived, the audit log fails."""
        if not broken and Child.objects.filter(status="archived").exists():
            broken_audit()
            broken.append(True)

    try:
        with pytest.raises(audit_log.AuditUnavailable):
            retention.run(day, batch_size=1, progress=breaks)
    finally:
        if broken:
            mended_audit()
    archived_now = Child.objects.filter(status="archived")
    # The batches before the failure are kept, each with its event; the failed one
    # changed nothing.
    assert archived_now.count() == 1
    assert {e.child_id for e in events(retention.ARCHIVE)} == set(
        archived_now.values_list("id", flat=True)
    )
    retention.run(day, batch_size=1)
    assert Child.objects.filter(status="archived").count() == 3
    assert len(events(retention.ARCHIVE)) == 3
    assert verify().ok


def test_a_purged_child_stays_unreadable_in_a_backup_taken_before(
    children: dict[str, Child], tmp_path: Path
) -> None:
    adult, young = children["adult"], children["young"]
    retention.run(dt.date(2025, 1, 1))
    backup = tmp_path / "before-purge.jsonl.gz"
    run_cli("backup", "--out", str(backup))
    purge = run_cli("retention", "run", "--today", "2031-01-01")
    assert "2 child(ren) were purged" in purge.stdout  # "adult" and "leaver"
    empty_registry()
    run_cli("restore", str(backup))
    restored = Child.objects.get(pk=adult.pk)
    assert restored.status == "archived"  # as it was when the backup was taken
    assert golden_record(adult.pk) is None  # but its key is gone: it cannot be read
    readable = golden_record(young.pk)
    assert readable is not None and readable.given_name is not None
    assert readable.given_name.value == "Yusuf"
    # The next run marks it purged again.
    run_cli("retention", "run", "--today", "2031-01-01")
    assert Child.objects.get(pk=adult.pk).status == "purged"


def test_the_command_dry_run_and_its_mistakes(children: dict[str, Child]) -> None:
    dry = run_cli("retention", "run", "--dry-run", "--today", "2026-06-01")
    assert "3 child(ren) would be archived" in dry.stdout and "(dry run)" in dry.stdout
    assert Child.objects.filter(status="archived").count() == 0
    for child in children.values():  # no name, no ID
        assert child.cpid not in dry.stdout + dry.stderr
    wrong = run_cli("retention", "run", "--today", "1 June", check=False)
    assert wrong.returncode == 2 and "YYYY-MM-DD" in wrong.stderr


def archive(child: Child, days_ago: int) -> None:
    """Archive `child` (18 long ago) as of `days_ago` days before today."""
    retention.run(TODAY - dt.timedelta(days=days_ago))
    child.refresh_from_db()
    assert child.status == "archived"


def test_in_its_first_year_only_the_index_team_of_its_area_reads_an_archived_record(
    children: dict[str, Child], actors: Actors
) -> None:
    adult = children["adult"]
    nurse(Actor.of(actors.alice), adult)  # alice is involved
    archive(adult, days_ago=90)
    ian = actors.ian.principal(second_factor=True)
    shown = record_for(ian, openable(ian, adult.cpid))
    assert shown.view is View.FULL and shown.family_name and shown.family_name.value == "Older"
    viewed = events("child:record:view")[-1]
    assert (viewed.child_id, viewed.purpose) == (adult.pk, "archived_record")
    assert signed_in(actors.ian).get(f"/children/{adult.cpid}").status_code == 200
    for who in (actors.alice, actors.isla, actors.charlie):  # involved, other area, other
        assert signed_in(who).get(f"/children/{adult.cpid}").status_code == 404
    search = {
        "purpose": "starting_work",
        "family_name": "Older",
        "given_name": "Ada",
        **{"dob-day": "15", "dob-month": "1", "dob-year": "2001"},
    }
    assert signed_in(actors.ian).post("/search", search).status_code in (200, 303)
    searched = events("child:records:search")
    assert searched and adult.pk not in {e.child_id for e in searched}  # never shown


def test_after_a_year_only_with_a_statutory_reason_which_is_audited(
    children: dict[str, Child], actors: Actors
) -> None:
    adult = children["adult"]
    archive(adult, days_ago=400)
    client = signed_in(actors.ian)
    assert client.get(f"/children/{adult.cpid}").status_code == 404
    form = client.get(f"/children/{adult.cpid}/statutory-access")
    assert form.status_code == 200 and "serious case review" in form.content.decode()
    short = client.post(
        f"/children/{adult.cpid}/statutory-access",
        {"reason": "serious_case_review", "explanation": "SCR"},
    )
    assert short.status_code == 400 and not StatutoryAccess.objects.exists()
    answer = client.post(
        f"/children/{adult.cpid}/statutory-access",
        {"reason": "serious_case_review", "explanation": EXPLANATION},
    )
    assert answer.status_code == 302
    access = StatutoryAccess.objects.get()
    assert access.expires_at <= timezone.now() + dt.timedelta(days=1)
    assert EXPLANATION.encode() not in bytes(access.explanation)  # sealed
    # The row names its child only by a keyed digest of child and user and a sealed id.
    assert not {str(adult.pk), adult.pk.hex} & {str(v) for r in raw_rows(TABLE) for v in r}
    assert bytes(access.holder) == STATUTORY.holder(adult.pk, actors.ian.pk)
    assert STATUTORY.child_id_of(access) == adult.pk
    # Ian's access, not a colleague's of the same team.
    iris = user("iris@council-a.example", "Iris", actors.council_a, Role.INDEX_TEAM, {})
    assert archived_purpose(iris.principal(second_factor=True), adult) is None
    assert archived_purpose(actors.ian.principal(second_factor=True), adult)
    opened = events(archived.STATUTORY)[0]
    # The reason is sealed in the event (it says what befell the child), not its purpose.
    assert (opened.child_id, opened.purpose, opened.principal) == (
        adult.pk,
        "",
        f"user:{actors.ian.pk}",
    )
    assert audit_log.purposes_of([opened]) == {opened.index: "serious_case_review"}
    assert client.get(f"/children/{adult.cpid}").status_code == 200
    viewed = events("child:record:view")[-1]
    assert viewed.purpose == ""
    assert audit_log.purposes_of([viewed]) == {viewed.index: "serious_case_review"}
    # Not another area's team, and never a practitioner.
    for who in (actors.isla, actors.alice):
        other = signed_in(who).post(
            f"/children/{adult.cpid}/statutory-access",
            {"reason": "serious_case_review", "explanation": EXPLANATION},
        )
        assert other.status_code in (403, 404)
    assert StatutoryAccess.objects.count() == 1
