"""Web form fields have length limits checked before any work; a form the service refuses
as invalid, and a post without its CSRF token, are audited without what was submitted."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from contactpoint.access.models import Throttle
from contactpoint.audit.models import Event
from contactpoint.practice.models import EmergencyAccess
from contactpoint.registry.models import Child
from tests.support.actors import Actors, signed_in
from tests.support.audit import opened
from tests.support.children import load_children
from tests.support.pages import AMELIA, find, record_of

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

MARK = "Zebedee-Quixotic"  # a value that must never reach the audit log


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


def test_a_search_with_an_over_long_name_is_refused_before_it_is_run_or_counted(
    children: dict[str, Child], actors: Actors
) -> None:
    alice = signed_in(actors.alice)
    asked = {**AMELIA, "given_name": "Amelia" + "a" * 200}
    answer = alice.post("/search", asked)
    assert answer.status_code == 400
    assert "“given_name” is longer than 100 characters" in answer.content.decode()
    assert not Throttle.objects.exists()  # no quota used
    assert not Event.objects.filter(action="child:records:search").exists()


def test_an_over_long_explanation_is_refused_not_cut_short(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["maya"]
    alice = signed_in(actors.alice)
    find(alice, "maya")
    path = f"{record_of(child)}/emergency-access"
    answer = alice.post(path, {"reason": "immediate_risk", "explanation": "Police at door. " * 300})
    assert answer.status_code == 400
    assert "“explanation” is longer than 4000 characters" in answer.content.decode()
    assert not EmergencyAccess.objects.exists()


def test_over_long_query_fields_and_unknown_long_fields_are_refused(actors: Actors) -> None:
    assert Client().get("/sign-in", {"next": "/" + "x" * 2100}).status_code == 400
    assert Client().post("/sign-in", {"x" * 150: "1"}).status_code == 400
    assert Client().post("/sign-in", {"email": "a" * 255}).status_code == 400


def test_a_form_refused_as_invalid_is_audited_without_its_values(
    children: dict[str, Child], actors: Actors
) -> None:
    alice = signed_in(actors.alice)
    answer = alice.post("/search", {"purpose": "starting_work", "given_name": MARK})
    assert answer.status_code == 400
    event = Event.objects.get(action="web:request:invalid")
    assert (event.outcome, event.principal) == ("refused", f"user:{actors.alice.pk}")
    details = opened(event)
    assert details == {"rule": "child:records:search", "status": 400}
    assert MARK not in str(details)


def test_an_over_long_field_is_audited_as_invalid(actors: Actors) -> None:
    alice = signed_in(actors.alice)
    assert alice.post("/search", {**AMELIA, "family_name": MARK * 20}).status_code == 400
    event = Event.objects.get(action="web:request:invalid")
    assert event.principal == f"user:{actors.alice.pk}"
    assert MARK not in str(opened(event))


def test_a_post_without_its_csrf_token_is_refused_and_audited(actors: Actors) -> None:
    alice = signed_in(actors.alice)
    alice.handler.enforce_csrf_checks = True
    answer = alice.post("/search", {**AMELIA, "given_name": MARK})
    assert answer.status_code == 403
    event = Event.objects.get(action="web:csrf:refused")
    assert (event.outcome, event.principal) == ("refused", f"user:{actors.alice.pk}")
    details = opened(event)
    assert details["rule"] == "child:records:search" and "CSRF" in details["reason"]
    assert MARK not in str(details)
    assert not Event.objects.filter(action="child:records:search").exists()
