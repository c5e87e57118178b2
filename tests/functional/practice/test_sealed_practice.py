"""What practice rows say about a child, sealed (ADR 0010): an alert's kind (and a
shielding alert's child), an emergency or statutory access's reason, a family notice's
outcome. The migrations convert rows written before, and the pages read the same."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from contactpoint.access.users import Actor, Invalid
from contactpoint.audit import log as audit_log
from contactpoint.audit.models import Event
from contactpoint.keystore import service as keys
from contactpoint.practice import involvements
from contactpoint.practice.families import family_notices, subject_access_history
from contactpoint.practice.involvements import Details, alerts, contact_requests, emergency
from contactpoint.practice.models import (
    Alert,
    ContactRequest,
    EmergencyAccess,
    FamilyNotice,
    StatutoryAccess,
)
from contactpoint.practice.retention.archived import REASON_SIZE
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.models import Child, Involvement
from tests.support.actors import Actors, signed_in
from tests.support.alerts import naming
from tests.support.children import an_involvement, found, load_children
from tests.support.migrations import applied_models
from tests.support.registry import raw_rows

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("practice", "0005_rectification_and_notices")]
BEFORE_REQUESTS = [("practice", "0007_seal_family_notice_outcomes")]
WHY = "The child did not come home from school and cannot be reached"
OVERHEAD = 29  # what sealing adds to a value: a format byte, the nonce and the tag
AT = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)


def nurse(child: Child, actors: Actors) -> Involvement:
    return an_involvement(
        child, actors.school_a, "school_nurse", last_confirmed=dt.date(2026, 11, 1)
    )


def test_every_alert_is_one_sealed_length_and_a_shielding_alert_names_no_child(
    feeds: Path, actors: Actors
) -> None:
    amelia = load_children(feeds)["amelia"]
    joined = nurse(amelia, actors)
    alerts.raise_alert([actors.ian], Alert.Kind.SHIELDED_JOINED, child=amelia, involvement=joined)
    alerts.raise_alert([actors.alice], Alert.Kind.JOINED, child=amelia, involvement=joined)
    shielded, plain = (
        Alert.objects.get(recipient=actors.ian),
        Alert.objects.get(recipient=actors.alice),
    )
    assert alerts.about(shielded) == alerts.About("shielded_joined", amelia.pk, joined.pk)
    assert len(bytes(shielded.about)) == len(bytes(plain.about))
    for row in raw_rows("practice_alert"):
        assert not any(isinstance(v, str) and "joined" in v for v in row)
    told = Alert.objects.filter(recipient=actors.ian).values()[0]
    assert not {str(amelia.pk), amelia.pk.hex} & {str(v) for v in told.values()}
    # The index team's page still shows which child and which service, as before.
    page = signed_in(actors.ian).get("/alerts").content.decode()
    assert "A service registered with a shielded child" in page and amelia.cpid in page


def test_an_emergency_reason_is_sealed_and_shown_to_the_reviewing_privacy_officer(
    feeds: Path, actors: Actors
) -> None:
    amelia = load_children(feeds)["amelia"]
    alice = Actor.of(actors.alice)
    found(alice, amelia)
    access = emergency.open_access(alice, amelia, "missing", WHY)
    assert emergency.reasons_of([access]) == {access.pk: "missing"}
    stored = raw_rows("practice_emergencyaccess")
    assert not any(v == "missing" for row in stored for v in row)
    assert len(bytes(EmergencyAccess.objects.get().reason)) == emergency.REASON_SIZE + OVERHEAD
    for officer in (actors.petra,):
        review = signed_in(officer).get("/emergency-access").content.decode()
        assert "The child is missing" in review
        inbox = signed_in(officer).get("/alerts").content.decode()
        assert "The child is missing" in inbox


def test_an_emergency_reason_is_sealed_in_the_audit_log_and_its_readers_still_show_it(
    feeds: Path, actors: Actors
) -> None:
    amelia = load_children(feeds)["amelia"]
    alice = Actor.of(actors.alice)
    found(alice, amelia)
    emergency.open_access(alice, amelia, "missing", WHY)
    (event,) = Event.objects.filter(action="child:emergency-access:open")
    assert event.purpose == ""
    assert not any(v == "missing" for row in raw_rows("audit_event") for v in row)
    assert audit_log.purposes_of([event]) == {event.index: "missing"}
    # The privacy officer's history of the child says why, as before.
    page = signed_in(actors.petra).get(f"/oversight/children?cpid={amelia.cpid}")
    row = page.content.decode().split(f'id="event-{event.index}"')[1].split("</tr>")[0]
    assert "The child is missing" in row
    # So does a family's subject-access report of who looked.
    shown = subject_access_history.history(amelia.pk, ("", dt.date(2000, 1, 1))).shown
    words = subject_access_history.named(shown, set())
    assert [(a.what, a.purpose) for a in words] == [
        ("Opened the record with emergency access", "The child is missing")
    ]


def camhs(child: Child, actors: Actors) -> Involvement:
    """Charlie's sensitive service registered with the child, and Alice's school nurse (so
    Alice sees the record in full and may ask to be put in touch)."""
    charlie, alice = Actor.of(actors.charlie), Actor.of(actors.alice)
    found(charlie, child)
    details = Details(
        "health_service",
        "CAMHS worker",
        "1",
        sensitive_category="mental_health",
        consent_basis="young_person_consent",
    )
    sensitive = involvements.register(charlie, child, details)
    found(alice, child)
    involvements.register(alice, child, Details("school_nurse", "Nurse", "2"))
    return sensitive


def test_a_contact_request_and_its_alert_name_no_involvement_or_child_in_clear(
    feeds: Path, actors: Actors
) -> None:
    oliver = load_children(feeds)["oliver"]
    sensitive = camhs(oliver, actors)
    alice = Actor.of(actors.alice)
    request = involvements.request_contact(alice, sensitive.pk)
    ids = {str(sensitive.pk), sensitive.pk.hex, str(oliver.pk), oliver.pk.hex}
    stored = {str(v) for row in raw_rows("practice_contactrequest") for v in row}
    assert not ids & stored
    # Its alert keeps the child only in `about` (another service's `joined` alert names it).
    ((_, about),) = naming(request.pk)
    assert about == alerts.About("contact_request", oliver.pk, None, request.pk)
    ids |= {str(request.pk), request.pk.hex}
    assert not ids & {str(v) for row in raw_rows("practice_alert") for v in row}
    assert contact_requests.involvement_of(request) == sensitive.pk
    # The one-open-request rule holds on the tag.
    with pytest.raises(Invalid, match="already asked"):
        involvements.request_contact(alice, sensitive.pk)
    # The service still sees the request, about which child, and answers it.
    charlie = signed_in(actors.charlie)
    inbox = charlie.get("/alerts").content.decode()
    assert "A practitioner asks to be put in touch" in inbox and oliver.cpid in inbox
    assert f'action="/contact-requests/{request.pk}"' in inbox
    answered = charlie.post(f"/contact-requests/{request.pk}", {"answer": "contacted"})
    assert answered.status_code == 302
    request.refresh_from_db()
    assert request.status == ContactRequest.Status.CONTACTED


def test_the_migration_seals_a_contact_requests_involvement(feeds: Path, actors: Actors) -> None:
    oliver = load_children(feeds)["oliver"]
    sensitive = camhs(oliver, actors)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_REQUESTS)
    try:
        old = applied_models()
        asked = old.get_model("practice", "ContactRequest").objects.create(
            requester_id=actors.alice.pk, involvement_id=sensitive.pk
        )
        told = old.get_model("practice", "Alert").objects.create(
            recipient_id=actors.charlie.pk,
            about=alerts.seal_about(
                uuid.UUID(int=1), alerts.About("contact_request", oliver.pk, None)
            ),
            id=uuid.UUID(int=1),
            child_id=oliver.pk,
            contact_request_id=asked.pk,
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    request = ContactRequest.objects.get(pk=asked.pk)
    assert contact_requests.involvement_of(request) == sensitive.pk
    assert bytes(request.involvement_tag) == contact_requests.involvement_tag(sensitive.pk)
    alert = Alert.objects.get(pk=told.pk)
    assert alerts.about(alert) == alerts.About("contact_request", oliver.pk, None, asked.pk)
    ids = {str(sensitive.pk), sensitive.pk.hex, str(oliver.pk), oliver.pk.hex}
    assert not ids & {str(v) for row in raw_rows("practice_contactrequest") for v in row}


def test_the_migrations_seal_alerts_reasons_and_notices(feeds: Path, actors: Actors) -> None:
    children = load_children(feeds)
    kept, purged = children["amelia"], children["oliver"]
    joined = nurse(kept, actors)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = applied_models()
        made = _clear_rows(old, actors, kept.pk, purged.pk, joined.pk)
        keys.destroy_data_keys([purged.pk])
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    review, join = (Alert.objects.get(pk=made[k]) for k in ("review", "joined"))
    assert alerts.about(review) == alerts.About("shielding_review_due", kept.pk, None)
    assert alerts.about(join) == alerts.About("joined", kept.pk, joined.pk)
    assert emergency.reasons_of(EmergencyAccess.objects.all()) == {made["emergency"]: "missing"}
    assert EmergencyAccess.objects.get(pk=made["gone"]).reason is None  # its key is gone
    statutory = StatutoryAccess.objects.get()
    cipher = ciphers_for({kept.pk})[kept.pk]
    assert cipher.open_fixed(statutory, "reason") == "child_death_review"
    assert len(bytes(statutory.reason)) == REASON_SIZE + OVERHEAD
    notice = FamilyNotice.objects.get()
    outcome = family_notices.outcome_of(notice)
    assert outcome == family_notices.Outcome(
        "not_sent_risk", risk="harm_from_family", by_id=actors.alice.pk, at=AT
    )
    assert not notice.due
    codes = ("shielding_review_due", "joined", "missing", "child_death_review", "harm_from_family")
    for table in ("alert", "emergencyaccess", "statutoryaccess", "familynotice"):
        for row in raw_rows(f"practice_{table}"):
            assert not set(codes) & {v for v in row if isinstance(v, str)}, table


def _clear_rows(
    old: object, actors: Actors, kept: uuid.UUID, purged: uuid.UUID, joined: uuid.UUID
) -> dict[str, uuid.UUID]:
    """Practice rows as they were held before sealing: alerts, emergency accesses (one of
    a child whose key is then destroyed), a statutory access and a family notice."""
    get = old.get_model  # type: ignore[attr-defined]
    alert, access = get("practice", "Alert"), get("practice", "EmergencyAccess")
    review = alert.objects.create(
        recipient_id=actors.ian.pk, kind="shielding_review_due", child_id=kept
    )
    join = alert.objects.create(
        recipient_id=actors.alice.pk, kind="joined", child_id=kept, involvement_id=joined
    )
    times = {"granted_at": AT, "expires_at": AT + dt.timedelta(minutes=30)}
    person = {"user_id": actors.alice.pk, "organisation_id": actors.school_a.pk}
    one = access.objects.create(child_id=kept, reason="missing", **person, **times)
    gone = access.objects.create(child_id=purged, reason="immediate_risk", **person, **times)
    get("practice", "StatutoryAccess").objects.create(
        child_id=kept,
        reason="child_death_review",
        user_id=actors.ian.pk,
        organisation_id=actors.council_a.pk,
        **times,
    )
    get("practice", "FamilyNotice").objects.create(
        involvement_id=joined,
        child_id=kept,
        area_id=actors.area_a.pk,
        status="not_sent_risk",
        risk="harm_from_family",
        risk_recorded_by_id=actors.alice.pk,
        created_at=AT,
    )
    return {"review": review.pk, "joined": join.pk, "emergency": one.pk, "gone": gone.pk}


def test_a_child_whose_key_is_gone_shows_its_access_reason_as_not_available(
    feeds: Path, actors: Actors
) -> None:
    amelia = load_children(feeds)["amelia"]
    alice = Actor.of(actors.alice)
    found(alice, amelia)
    emergency.open_access(alice, amelia, "immediate_risk", WHY)
    keys.destroy_data_keys([amelia.pk])
    assert emergency.reasons_of(EmergencyAccess.objects.all()) == {}
    page = signed_in(actors.petra).get("/emergency-access").content.decode()
    assert "Not available: the child&#39;s record has been deleted" in page
    assert Child.objects.filter(pk=amelia.pk).exists()
