"""Rectification (docs/families.md): a request to correct a field of a child's record is
recorded, sent to the source that supplied the field, and tracked until closed.

The made-up children's GP and school are Camden organisations, so Ian (area A's index
team) is their local index team; Isla is area B's, Alice a practitioner at school A.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.audit.log import AuditUnavailable
from contactpoint.audit.models import Event
from contactpoint.audit.verify import verify
from contactpoint.practice.families import rectification
from contactpoint.practice.models import RectificationRequest
from contactpoint.registry.golden import golden_record
from contactpoint.registry.models import Child, Involvement
from tests.support.actors import Actors, signed_in
from tests.support.audit import audit_store_broken
from tests.support.children import found, load_children
from tests.support.events import details_of
from tests.support.registry import records_from

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

CORRECTED = "Hartley-Okonkwo"
NOTE = "Birth certificate seen by the duty officer"


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


def ask(actors: Actors, child: Child, **more: str) -> RectificationRequest:
    fields = {"field": "family_name", "corrected_value": CORRECTED, "asked_by": "parent_or_carer"}
    fields |= more
    return rectification.record(Actor.of(actors.ian), child, **fields)


def identifying(child: Child) -> list[str]:
    gold = golden_record(child.pk)
    assert gold is not None and gold.nhs_number is not None and gold.postcode is not None
    return ["Amelia", "Hartley", "2015-03-04", gold.postcode.value, gold.nhs_number.value]


# The service ---------------------------------------------------------------------------


def test_a_request_goes_to_the_source_of_the_field_and_is_closed_when_it_corrects_it(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    made = ask(actors, amelia, note=NOTE)
    gold = golden_record(amelia.pk)
    assert gold is not None and gold.family_name is not None
    assert made.source is not None
    assert made.source.code == gold.family_name.provenance.source  # its provenance
    assert made.source_as_at == gold.family_name.provenance.as_at
    kept = Involvement.objects.get(child=amelia, source_record__in=records_from(made.source.code))
    assert made.organisation == kept.organisation  # the organisation that sent the record
    assert (made.status, made.area.code, made.recorded_by_id) == (
        "recorded",
        actors.area_a.code,
        actors.ian.pk,
    )
    assert rectification.value_of(made) == CORRECTED and rectification.note_of(made) == NOTE

    mail.outbox.clear()
    sent, message = rectification.send(Actor.of(actors.ian), made.pk)
    assert (sent.status, sent.sent_by_id, sent.emailed) == ("sent_to_source", actors.ian.pk, True)
    assert message.to == kept.organisation.name and message.reference == made.reference
    for shown in (amelia.cpid, "Family name", CORRECTED, made.source.name):
        assert shown in message.body
    for other in ("Amelia", "2015-03-04", *identifying(amelia)[3:], NOTE):
        assert other not in message.body  # never another field, nor the team's note

    (email,) = mail.outbox
    assert email.to == [kept.organisation.email]
    assert made.reference in email.subject and made.reference in email.body
    everything = f"{email.subject}\n{email.body}"
    for secret in (amelia.cpid, CORRECTED, NOTE, *identifying(amelia)):
        assert secret not in everything  # a reference number and nothing else

    closed = rectification.answer(Actor.of(actors.ian), made.pk, corrected=True)
    assert (closed.status, closed.closed_by_id) == ("corrected", actors.ian.pk)
    assert closed.closed_at is not None and not closed.is_open
    assert list(rectification.queue(Actor.of(actors.ian))) == []


def test_the_corrected_value_and_the_note_are_never_stored_in_clear(
    children: dict[str, Child], actors: Actors
) -> None:
    made = ask(actors, children["amelia"], note=NOTE)
    table = RectificationRequest._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (our own table's name)
        (row,) = cursor.fetchall()
    stored = b"".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row
    )
    assert CORRECTED.encode() not in stored and NOTE.encode() not in stored
    assert b"Hartley" not in stored
    assert rectification.value_of(RectificationRequest.objects.get(pk=made.pk)) == CORRECTED


def test_a_source_may_refuse_and_a_request_may_be_withdrawn_and_closed_ones_stay_closed(
    children: dict[str, Child], actors: Actors
) -> None:
    ian = Actor.of(actors.ian)
    first = ask(actors, children["amelia"])
    with pytest.raises(Invalid, match="recorded, not yet sent"):
        rectification.answer(ian, first.pk, corrected=False)  # not sent yet
    rectification.send(ian, first.pk)
    with pytest.raises(Invalid, match="sent to the source"):
        rectification.send(ian, first.pk)
    refused = rectification.answer(ian, first.pk, corrected=False, note="Their record is right")
    assert refused.status == "refused_by_source"
    assert "Their record is right" in rectification.note_of(refused)
    second = ask(actors, children["oliver"], field="postcode", corrected_value="NW5 2RU")
    assert rectification.withdraw(ian, second.pk).status == "withdrawn"
    for closed in (first, second):
        for step in (rectification.send, rectification.withdraw):
            with pytest.raises(Invalid):
                step(ian, closed.pk)


def test_a_request_must_name_a_field_of_the_record_a_value_and_who_asked(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    wrong = [
        ({"field": "concerns"}, "select the field"),
        ({"corrected_value": "  "}, "enter what the field should say"),
        ({"corrected_value": "x" * 201}, "under 200"),
        ({"asked_by": "neighbour"}, "who asked"),
    ]
    for more, message in wrong:
        with pytest.raises(Invalid, match=message):
            ask(actors, amelia, **more)
    assert not RectificationRequest.objects.exists()
    assert not Event.objects.filter(action__startswith="families:").exists()


def test_only_the_local_index_team_of_the_child_handles_its_requests(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    for outsider in (actors.isla, actors.alice, actors.charlie, actors.petra, actors.nadia):
        with pytest.raises(Refused):
            rectification.record(Actor.of(outsider), amelia, "sex", "M", "young_person")
    made = ask(actors, amelia)
    for outsider in (actors.isla, actors.alice):
        with pytest.raises(Refused):
            rectification.send(Actor.of(outsider), made.pk)
        with pytest.raises(Refused):
            rectification.withdraw(Actor.of(outsider), made.pk)
    assert list(rectification.queue(Actor.of(actors.isla))) == []
    assert list(rectification.queue(Actor.of(actors.ian))) == [made]
    assert RectificationRequest.objects.get().status == "recorded"


def test_each_step_is_audited_with_ids_and_codes_only(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia, ian = children["amelia"], Actor.of(actors.ian)
    made = ask(actors, amelia, note=NOTE)
    rectification.send(ian, made.pk)
    rectification.show(ian, made.pk)
    rectification.answer(ian, made.pk, corrected=True, note=NOTE)
    events = list(Event.objects.filter(action__startswith="families:").order_by("index"))
    assert [e.action for e in events] == [
        "families:rectification:record",
        "families:rectification:send",
        "families:rectification:show",
        "families:rectification:corrected",
    ]
    assert all(e.child_id == amelia.pk and e.principal == f"user:{actors.ian.pk}" for e in events)
    first = details_of(events[0])
    assert first["rectification"] == str(made.pk) and first["field"] == "family_name"
    assert first["asked_by"] == "parent_or_carer"
    assert details_of(events[1])["emailed"] is True
    for event in events:
        text = json.dumps(details_of(event))
        assert not [v for v in (CORRECTED, NOTE, *identifying(amelia)) if v in text]
    assert verify().ok


def test_a_step_the_audit_log_cannot_record_changes_nothing(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia, ian = children["amelia"], Actor.of(actors.ian)
    with audit_store_broken(), pytest.raises(AuditUnavailable):
        ask(actors, amelia)
    assert not RectificationRequest.objects.exists()
    made = ask(actors, amelia)
    mail.outbox.clear()
    with audit_store_broken(), pytest.raises(AuditUnavailable):
        rectification.send(ian, made.pk)
    assert RectificationRequest.objects.get().status == "recorded" and mail.outbox == []


# The pages -----------------------------------------------------------------------------


def text(client: Client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return html.unescape(response.content.decode())


def test_the_index_team_records_sends_and_closes_a_request_through_the_pages(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    form = f"/children/{amelia.cpid}/rectification"
    ian = signed_in(actors.ian)
    assert ian.get(form).status_code == 404  # not found by a search: no opening by ID
    found(Actor.of(actors.ian), amelia)
    page = text(ian, form)
    assert "Ask for a correction" in page and "Hartley" not in page
    incomplete = ian.post(form, {"field": "family_name", "asked_by": "young_person"})
    assert incomplete.status_code == 400 and "Enter what the field should say" in html.unescape(
        incomplete.content.decode()
    )
    posted = {"field": "family_name", "value": CORRECTED, "asked_by": "young_person"}
    made = ian.post(form, posted)
    assert made.status_code == 302 and made["Location"] == "/rectification"
    request = RectificationRequest.objects.get()
    queue = text(ian, "/rectification")
    assert request.reference in queue and amelia.cpid in queue
    assert "is recorded" in queue
    for hidden in (CORRECTED, "Amelia", "Hartley"):
        assert hidden not in queue  # no value in a list

    step = f"/rectification/{request.pk}"
    sent = ian.post(step, {"action": "sent"})
    shown = html.unescape(sent.content.decode())
    assert sent.status_code == 200 and CORRECTED in shown and amelia.cpid in shown
    assert "Amelia" not in shown
    assert RectificationRequest.objects.get().status == "sent_to_source"
    assert ian.post(step, {"action": "sent"}).status_code == 400  # already sent
    assert ian.post(step, {"action": "corrected"})["Location"] == "/rectification"
    assert RectificationRequest.objects.get().status == "corrected"
    assert "No correction request is open" in text(ian, "/rectification")
    assert ian.get(step)["Location"] == "/rectification"
    assert ian.get("/rectification?cpid=" + amelia.cpid)["Location"] == form


def test_the_pages_refuse_whoever_is_not_the_childs_local_index_team(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    form = f"/children/{amelia.cpid}/rectification"
    for outsider in (actors.isla, actors.alice):
        found(Actor.of(outsider), amelia)
    assert signed_in(actors.isla).get(form).status_code == 403  # another area's team
    for outsider in (actors.alice, actors.petra, actors.nadia, actors.charlie):
        assert signed_in(outsider).get("/rectification").status_code == 403
        assert signed_in(outsider).get(form).status_code == 403
    made = ask(actors, amelia)
    isla = signed_in(actors.isla)
    assert made.reference not in text(isla, "/rectification")
    assert isla.post(f"/rectification/{made.pk}", {"action": "sent"}).status_code == 403
    unknown = "/rectification/00000000-0000-0000-0000-000000000001"
    assert signed_in(actors.ian).post(unknown, {"action": "sent"}).status_code == 404
    assert RectificationRequest.objects.get().status == "recorded"
