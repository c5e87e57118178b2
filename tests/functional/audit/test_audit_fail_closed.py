"""Every search, record view and refusal writes an audit event before anything is shown;
when the audit log cannot be written, pages and the API answer 503 and show nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.test import Client

from contactpoint.access.models import Accreditation, User
from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor
from contactpoint.audit import log as audit_log
from contactpoint.audit.models import Event
from contactpoint.audit.verify import verify
from contactpoint.practice.involvements import emergency
from contactpoint.registry.involvement_facts import facts_one
from contactpoint.registry.models import Child
from tests.support.actors import PASSWORD, Actors, signed_in
from tests.support.api import Caller, machine
from tests.support.audit import audit_store_broken
from tests.support.children import at, found, load_children, one_at
from tests.support.pages import AMELIA

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

NURSE = {"role": "school_nurse", "job_title": "School nurse", "phone": "020 7946 0101"}
EXPLANATION = "Police called about the child at the address tonight"


def sign_in(client: Client, actors: Actors, user: User, expect: str = "/account") -> None:
    """Password, then the authenticator code, as test_sign_in does."""
    client.post("/sign-in", {"email": user.email, "password": PASSWORD})
    client.post("/sign-in/second-factor", {"code": actors.code(user)})
    assert client.get("/account").status_code == (200 if expect == "/account" else 302)


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


def test_a_search_and_a_record_view_are_audited_before_they_are_shown(
    children: dict[str, Child], actors: Actors
) -> None:
    client = signed_in(actors.alice)
    amelia = children["amelia"]
    answer = client.post("/search", AMELIA)
    assert answer.status_code == 303
    assert "Hartley" in client.get(answer["Location"]).content.decode()
    searched = Event.objects.get(action="child:records:search")
    assert (searched.child_id, searched.purpose, searched.outcome) == (amelia.pk, "", "allowed")
    # Beside a child, why someone searched is sealed (`child_protection_enquiry` says much).
    assert audit_log.purposes_of([searched]) == {searched.index: "starting_work"}
    assert searched.principal == f"user:{actors.alice.pk}" and searched.role == "practitioner"
    assert searched.organisation_id == actors.school_a.pk
    assert searched.request_id == answer["X-Request-ID"]
    page = client.get(f"/children/{amelia.cpid}")
    assert page.status_code == 200
    viewed = Event.objects.get(action="child:record:view")
    assert viewed.child_id == amelia.pk and viewed.request_id == page["X-Request-ID"]
    assert verify().ok


def test_pages_answer_503_and_show_nothing_when_the_audit_log_cannot_be_written(
    children: dict[str, Child], actors: Actors
) -> None:
    client = signed_in(actors.alice)
    assert client.post("/search", AMELIA).status_code == 303  # found: the record may open
    record = f"/children/{children['amelia'].cpid}"
    with audit_store_broken():
        for response in (client.post("/search", AMELIA), client.get(record)):
            body = response.content.decode()
            assert response.status_code == 503
            assert "Hartley" not in body and "2015" not in body and "NW1" not in body
            assert "cannot record this one just now" in body
    assert Event.objects.count() == 1  # the search before, nothing since


def test_the_api_answers_503_and_shows_nothing_when_the_audit_log_cannot_be_written(
    children: dict[str, Child], actors: Actors
) -> None:
    caller = Caller(machine(actors, actors.school_a, Role.PRACTITIONER))
    asked = {
        "purpose": "starting_work",
        "family_name": "Hartley",
        "given_name": "Amelia",
        "date_of_birth": "2015-03-04",
    }
    assert caller.post("/children/search", asked).status_code == 200
    with audit_store_broken():
        for response in (
            caller.post("/children/search", asked),
            caller.get(f"/children/{children['amelia'].cpid}"),
        ):
            assert response.status_code == 503
            assert "Hartley" not in response.content.decode()
            assert "audit log" in response.json()["detail"]


def test_a_refused_request_is_audited(actors: Actors) -> None:
    petra = signed_in(actors.petra)  # a privacy officer: may not search for children
    assert petra.get("/search").status_code == 403
    refused = Event.objects.get()
    assert (refused.action, refused.outcome) == ("access:child:records:search", "refused")
    assert refused.principal == f"user:{actors.petra.pk}" and refused.child_id is None


def test_a_sign_in_and_a_refused_one_are_audited(actors: Actors) -> None:
    client = Client()
    sign_in(client, actors, actors.alice)
    signed = Event.objects.get(action="access:sign-in:complete")
    assert (signed.principal, signed.outcome) == (f"user:{actors.alice.pk}", "allowed")
    Accreditation.objects.filter(organisation=actors.school_a).update(
        expires_on=dt.date.today() - dt.timedelta(days=1)
    )
    sign_in(Client(), actors, actors.bob, expect="/sign-in/second-factor")
    refused = Event.objects.get(action="access:sign-in:complete", outcome="refused")
    assert refused.principal == f"user:{actors.bob.pk}"


def test_a_registration_is_audited_and_not_made_when_the_log_cannot_be_written(
    children: dict[str, Child], actors: Actors
) -> None:
    client = signed_in(actors.alice)
    amelia = children["amelia"]
    assert client.post("/search", AMELIA).status_code == 303
    register = f"/children/{amelia.cpid}/involvements"
    with audit_store_broken():
        assert client.post(register, NURSE).status_code == 503
    assert not at(actors.school_a, child=amelia)
    assert client.post(register, NURSE).status_code == 302
    made = one_at(actors.school_a, child=amelia)
    event = Event.objects.get(action="child:involvement:register")
    assert event.child_id == amelia.pk and event.organisation_id == actors.school_a.pk
    assert verify().ok and facts_one(made).role == "school_nurse"


def test_an_emergency_access_is_audited_with_its_reason(
    children: dict[str, Child], actors: Actors
) -> None:
    charlie = Actor.of(actors.charlie)
    oliver = children["oliver"]
    found(charlie, oliver)
    emergency.open_access(charlie, oliver, "immediate_risk", EXPLANATION)
    event = Event.objects.get(action="child:emergency-access:open")
    # The reason says what befell the child: sealed, opened for whoever shows it.
    assert (event.child_id, event.purpose) == (oliver.pk, "")
    assert audit_log.purposes_of([event]) == {event.index: "immediate_risk"}
    assert event.principal == f"user:{actors.charlie.pk}"


def test_opening_a_child_not_found_by_a_search_is_audited_as_refused(
    children: dict[str, Child], actors: Actors
) -> None:
    client = signed_in(actors.alice)
    oliver = children["oliver"]
    assert client.get(f"/children/{oliver.cpid}").status_code == 404  # not searched for
    assert client.get("/children/CP-0000-0000-0000-0").status_code == 404  # never issued
    probes = Event.objects.filter(action="child:record:open").order_by("index")
    assert [(e.child_id, e.outcome) for e in probes] == [
        (oliver.pk, "refused"),
        (None, "refused"),
    ]
    assert all(e.principal == f"user:{actors.alice.pk}" for e in probes)


def test_a_wrong_password_and_a_wrong_code_are_audited_under_the_account(
    actors: Actors,
) -> None:
    client = Client()
    client.post("/sign-in", {"email": actors.bob.email, "password": "not the password"})
    client.post("/sign-in", {"email": "nobody@school-a.example", "password": "nor this"})
    client.post("/sign-in", {"email": actors.bob.email, "password": PASSWORD})
    client.post("/sign-in/second-factor", {"code": "000000"})
    failed = [
        (e.action, e.principal) for e in Event.objects.filter(outcome="refused").order_by("index")
    ]
    assert failed == [
        ("access:sign-in:password", f"user:{actors.bob.pk}"),
        ("access:sign-in:password", ""),
        ("access:sign-in:code", f"user:{actors.bob.pk}"),
    ]
