"""A second-factor check in the middle of a form keeps what was typed: the fields are held
sealed in the session, never in a URL, and replayed once after the check."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from contactpoint.access.middleware import FACTOR_AT
from contactpoint.practice.involvements.emergency import reasons_of
from contactpoint.practice.models import EmergencyAccess
from contactpoint.registry.models import Child
from contactpoint.web.held import HELD, HELD_FOR
from tests.support.actors import Actors, signed_in
from tests.support.children import PEOPLE, load_children

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

EXPLANATION = "Police called about the child at the address tonight, mother missing"


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


def found(client: Client, key: str) -> None:
    given, family, born, _sex, _postcode = PEOPLE[key]
    year, month, day = born.split("-")
    form = {"purpose": "safeguarding", "family_name": family, "given_name": given}
    dob = {"dob-day": day, "dob-month": month, "dob-year": year}
    response = client.post("/search", {**form, **dob})
    assert response.status_code == 303


def factor_long_ago(client: Client) -> None:
    session = client.session
    session[FACTOR_AT] = time.time() - 3600
    session.save()


def post_then_confirm(client: Client, actors: Actors, path: str, data: dict[str, str]) -> str:
    """Post a form after the step-up window ended; give the code; where it leads."""
    response = client.post(path, data)
    location = urlsplit(response["Location"])
    assert response.status_code == 302 and location.path == "/sign-in/confirm"
    for typed in data.values():
        assert typed not in response["Location"]
    stored = "".join(s.session_data for s in Session.objects.all())
    for typed in data.values():
        assert typed not in stored  # sealed, not readable in the session table
    confirmed = client.post(
        "/sign-in/confirm?" + location.query, {"code": actors.code(actors.alice)}
    )
    assert confirmed.status_code == 302 and unquote(urlsplit(confirmed["Location"]).path) == path
    return str(confirmed["Location"])


@pytest.fixture
def due(children: dict[str, Child], actors: Actors) -> tuple[Client, str]:
    """Alice, who found Maya, with her step-up window passed; Maya's emergency-access page."""
    alice = signed_in(actors.alice)
    found(alice, "maya")
    factor_long_ago(alice)
    return alice, f"/children/{children['maya'].cpid}/emergency-access"


def test_emergency_access_posted_after_the_window_is_opened_after_the_code(
    due: tuple[Client, str], actors: Actors
) -> None:
    alice, path = due
    data = {"reason": "immediate_risk", "explanation": EXPLANATION}
    after = post_then_confirm(alice, actors, path, data)
    assert not EmergencyAccess.objects.exists()
    replayed = alice.get(after)
    assert replayed.status_code == 302  # the action done: back to the record
    access = EmergencyAccess.objects.get()
    assert reasons_of([access]) == {access.pk: "immediate_risk"}
    assert access.user_id == actors.alice.pk
    assert HELD not in alice.session


def test_a_held_form_with_a_mistake_comes_back_filled_in_and_only_once(
    due: tuple[Client, str], actors: Actors
) -> None:
    alice, path = due
    after = post_then_confirm(alice, actors, path, {"reason": "missing", "explanation": "short"})
    again = alice.get(after)
    page = again.content.decode()
    assert again.status_code == 400 and '<a href="#explanation">' in page
    assert "short</textarea>" in page or 'value="short"' in page
    assert 'value="missing" checked' in page or 'value="missing"  checked' in page
    fresh = alice.get(path).content.decode()  # replayed once: now the empty form
    assert "short</textarea>" not in fresh and "There is a problem" not in fresh


def test_a_held_form_is_not_replayed_when_stale_or_at_another_address(
    due: tuple[Client, str], actors: Actors
) -> None:
    alice, path = due
    data = {"reason": "immediate_risk", "explanation": EXPLANATION}
    post_then_confirm(alice, actors, path, data)
    session = alice.session
    session[HELD] = {**session[HELD], "at": time.time() - HELD_FOR - 1}
    session.save()
    assert alice.get(path).status_code == 200  # the form, empty: nothing done
    assert not EmergencyAccess.objects.exists()
    factor_long_ago(alice)
    assert alice.post(path, data).status_code == 302  # held again
    session = alice.session
    session[FACTOR_AT] = time.time() + 1  # the code given again (a code is good only once)
    session.save()
    assert alice.get("/search").status_code == 200  # elsewhere first: not replayed there
    assert not EmergencyAccess.objects.exists()
    assert alice.get(path).status_code == 302 and EmergencyAccess.objects.count() == 1
