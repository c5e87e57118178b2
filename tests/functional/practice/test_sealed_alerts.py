"""Alerts and handovers name no child, involvement or request in clear (ADR 0010): an alert
holds them in its sealed `about` and names its child by a keyed tag, a handover holds its
child and both involvements sealed and names its child by a keyed tag. The pages and the
decisions read them as before, and the migration converts rows written before."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from contactpoint.access.users import Actor, Invalid
from contactpoint.keystore.index_key import derived_key
from contactpoint.practice import involvements
from contactpoint.practice.involvements import Conflict, Details, alerts, handovers
from contactpoint.practice.models import Alert, Handover
from contactpoint.registry.cipher import associated_data, seal_padded
from contactpoint.registry.models import Child, Involvement
from tests.support.actors import Actors, signed_in
from tests.support.alerts import naming
from tests.support.children import an_involvement, found, load_children
from tests.support.migrations import written_before
from tests.support.registry import raw_rows

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("practice", "0011_seal_subject_access_relationship")]
CONFIRMED = dt.date(2026, 11, 1)


def stored_ids(table: str) -> set[str]:
    """Every value of the table's rows but their own id, as text (both UUID spellings)."""
    values = {str(v) for row in raw_rows(table) for v in row[1:]}
    return values | {v.replace("-", "") for v in values}


def ids(*things: uuid.UUID) -> set[str]:
    return {str(t) for t in things} | {t.hex for t in things}


def lead_and_taker(child: Child, actors: Actors) -> tuple[Involvement, Involvement, Handover]:
    """Alice's school nurse leads; Charlie's social worker joins and asks to take over."""
    alice, charlie = Actor.of(actors.alice), Actor.of(actors.charlie)
    found(alice, child)
    lead = involvements.register(alice, child, Details("school_nurse", "Nurse", "1"))
    assert involvements.become_lead(alice, lead.pk) is None
    found(charlie, child)
    taker = involvements.register(charlie, child, Details("social_worker", "Worker", "2"))
    handover = involvements.become_lead(charlie, taker.pk)
    assert handover is not None
    return lead, taker, handover


def test_no_alert_or_handover_row_names_a_child_involvement_or_request_in_clear(
    feeds: Path, actors: Actors
) -> None:
    amelia = load_children(feeds)["amelia"]
    lead, taker, handover = lead_and_taker(amelia, actors)
    # Alice was told Charlie joined and asks to take over: both alerts name them sealed.
    told = {o.kind: o for _, o in naming(amelia.pk, recipient=actors.alice)}
    assert told["joined"] == alerts.About("joined", amelia.pk, taker.pk)
    assert told["handover"] == alerts.About("handover", amelia.pk, None, handover.pk)
    named = ids(amelia.pk, lead.pk, taker.pk, handover.pk)
    assert not named & stored_ids("practice_alert")
    assert not named & stored_ids("practice_handover")
    # Every alert row looks alike: one sealed length, one tag length.
    rows = list(Alert.objects.all())
    assert len(rows) >= 2
    assert {len(bytes(a.about)) for a in rows} == {alerts.ABOUT_SIZE + 29}
    assert {bytes(a.child_tag) for a in rows} == {alerts.child_tag(amelia.pk)}
    stored = Handover.objects.get()
    assert bytes(stored.child_tag) == handovers.child_tag(amelia.pk)
    assert handovers.ids_of(stored) == (amelia.pk, lead.pk, taker.pk)
    # The one-open-handover rule holds on the tag.
    with pytest.raises(Conflict, match="already waiting"):
        involvements.become_lead(Actor.of(actors.charlie), taker.pk)
    # Alice's inbox still says who asks to take over, and she agrees there.
    alice = signed_in(actors.alice)
    inbox = alice.get("/alerts").content.decode()
    assert f'action="/handovers/{handover.pk}"' in inbox and "Charlie Clark" in inbox
    assert alice.post(f"/handovers/{handover.pk}", {"decision": "agree"}).status_code == 302
    taker.refresh_from_db()
    lead.refresh_from_db()
    assert taker.lead_professional and not lead.lead_professional
    assert Handover.objects.get().status == Handover.Status.AGREED


def test_an_ended_involvement_withdraws_its_handover_found_by_the_childs_tag(
    feeds: Path, actors: Actors
) -> None:
    amelia = load_children(feeds)["amelia"]
    _, taker, handover = lead_and_taker(amelia, actors)
    involvements.end(Actor.of(actors.charlie), taker.pk)
    assert Handover.objects.get(pk=handover.pk).status == Handover.Status.WITHDRAWN
    with pytest.raises(Invalid, match="no longer waiting"):
        involvements.decide_handover(Actor.of(actors.alice), handover.pk, agree=True)


def _old_about(alert_id: uuid.UUID, kind: str, child: uuid.UUID, inv: uuid.UUID | None) -> bytes:
    """`about` as migration 0006 sealed it: kind, child and involvement, 112 bytes."""
    document = json.dumps([kind, str(child), str(inv) if inv else None], separators=(",", ":"))
    ad = associated_data(Alert, "about", alert_id)
    return seal_padded(derived_key(alerts.ABOUT_KEY), document, 112, ad, "about")


def test_the_migration_seals_alerts_and_handovers_references(feeds: Path, actors: Actors) -> None:
    amelia = load_children(feeds)["amelia"]
    lead = an_involvement(amelia, actors.school_a, "school_nurse", last_confirmed=CONFIRMED)
    taker = an_involvement(amelia, actors.council_b, "social_worker", last_confirmed=CONFIRMED)

    def make(old: Any) -> dict[str, uuid.UUID]:
        handover = old.get_model("practice", "Handover").objects.create(
            child_id=amelia.pk,
            from_involvement_id=lead.pk,
            to_involvement_id=taker.pk,
            proposed_by_id=actors.charlie.pk,
        )
        request = old.get_model("practice", "ContactRequest").objects.create(
            requester_id=actors.alice.pk, involvement_tag=b"t" * 16, involvement_sealed=b"s" * 64
        )
        model = old.get_model("practice", "Alert")
        made = {"handover": handover.pk, "request": request.pk}
        rows = {
            "joined": ({"child_id": amelia.pk, "involvement_id": taker.pk}, taker.pk),
            "handover": ({"child_id": amelia.pk, "handover_id": handover.pk}, None),
            # A request's alert named its child only sealed already (0009).
            "contact_request": ({"contact_request_id": request.pk}, None),
        }
        for kind, (columns, inv) in rows.items():
            alert_id = uuid.uuid4()
            about = _old_about(alert_id, kind, amelia.pk, inv)
            model.objects.create(id=alert_id, recipient_id=actors.alice.pk, about=about, **columns)
            made[f"{kind} alert"] = alert_id
        return made

    made = written_before(BEFORE, make)
    opened = {
        k: alerts.about(Alert.objects.get(pk=made[f"{k} alert"])) for k in ("joined", "handover")
    }
    assert opened["joined"] == alerts.About("joined", amelia.pk, taker.pk)
    assert opened["handover"] == alerts.About("handover", amelia.pk, None, made["handover"])
    asked = alerts.about(Alert.objects.get(pk=made["contact_request alert"]))
    assert asked == alerts.About("contact_request", amelia.pk, None, made["request"])
    assert {bytes(a.child_tag) for a in Alert.objects.all()} == {alerts.child_tag(amelia.pk)}
    handover = Handover.objects.get(pk=made["handover"])
    assert handovers.ids_of(handover) == (amelia.pk, lead.pk, taker.pk)
    assert bytes(handover.child_tag) == handovers.child_tag(amelia.pk)
    named = ids(amelia.pk, lead.pk, taker.pk, made["handover"], made["request"])
    assert not named & stored_ids("practice_alert")
    assert not named & stored_ids("practice_handover")
    # The inbox reads the converted rows: the handover with both services.
    ((alert, _),) = alerts.opened(Alert.objects.filter(pk=made["handover alert"]))
    assert alert.handover is not None and alert.handover.to_involvement == taker
    assert alert.child == amelia
    # And the one-open-handover rule holds on the converted tag.
    another = handovers.make(lead, taker, actors.charlie.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        another.save(force_insert=True)
