"""The API reads dates only as dates and bodies only as JSON (contactpoint.api.inputs).

Found by the penetration test's schemathesis run: `0` was read as 1 January 1970 and year
0002 as itself, so a national client could make an accreditation expire in 1970 or in the
second century; and a JSON body sent as `text/plain` (which a browser sends cross-site
without a preflight) was parsed as JSON.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from contactpoint.access.models import Accreditation
from contactpoint.access.permissions import Role
from tests.support.actors import Actors
from tests.support.api import API, Caller, machine

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

NEXT_YEAR = (dt.date.today() + dt.timedelta(days=365)).isoformat()
IMPOSSIBLE = [0, "0", "1", 1700000000, "0002-01-01", "0001-01-01", "9999-12-31", "2026-02-30"]
SEARCH = {
    "purpose": "starting_work",
    "family_name": "Hartley",
    "given_name": "Amelia",
    "date_of_birth": "2015-03-04",
}


@pytest.fixture
def national(actors: Actors) -> Caller:
    return Caller(machine(actors, actors.national, Role.NATIONAL_ADMIN))


@pytest.fixture
def practitioner(actors: Actors) -> Caller:
    return Caller(machine(actors, actors.school_a, Role.PRACTITIONER))


def send(caller: Caller, path: str, body: str, content_type: str) -> Any:
    headers = {"Authorization": f"Bearer {caller.token}"}
    return Client().post(API + path, body, content_type=content_type, headers=headers)


def test_an_impossible_expiry_date_is_refused_with_422_and_nothing_changes(
    national: Caller, actors: Actors
) -> None:
    before = Accreditation.objects.get(organisation=actors.school_a).expires_on
    for when in IMPOSSIBLE:
        refused_expiry(national, actors, when)
    assert Accreditation.objects.get(organisation=actors.school_a).expires_on == before


def refused_expiry(national: Caller, actors: Actors, when: Any) -> None:
    response = national.post(
        f"/organisations/{actors.school_a.code}/accreditation", {"expires_on": when}
    )
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    assert detail.startswith("change.expires_on: must be")
    assert str(when) not in detail.removeprefix("change.expires_on")  # never the value sent


def test_an_impossible_date_of_birth_is_refused_with_422_before_any_search(
    practitioner: Caller,
) -> None:
    for born in IMPOSSIBLE:
        response = practitioner.post("/children/search", {**SEARCH, "date_of_birth": born})
        assert response.status_code == 422, (born, response.content)
        assert response.json()["detail"].startswith("asked.date_of_birth: must be")


def test_a_possible_date_is_still_read(national: Caller, actors: Actors) -> None:
    response = national.post(
        f"/organisations/{actors.school_a.code}/accreditation", {"expires_on": NEXT_YEAR}
    )
    assert response.status_code == 200, response.content
    assert response.json()["expires_on"] == NEXT_YEAR


def test_json_sent_as_another_type_is_refused_with_415(
    practitioner: Caller, national: Caller, actors: Actors
) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        refused_body(practitioner, national, actors, content_type)


def refused_body(practitioner: Caller, national: Caller, actors: Actors, content_type: str) -> None:
    search = send(practitioner, "/children/search", json.dumps(SEARCH), content_type)
    assert search.status_code == 415, search.content
    assert search.json() == {
        "detail": "send the body as JSON, with the header Content-Type: application/json"
    }
    before = Accreditation.objects.get(organisation=actors.school_a).status
    path = f"/organisations/{actors.school_a.code}/accreditation"
    withdraw = send(
        national, path, json.dumps({"expires_on": NEXT_YEAR, "withdrawn": True}), content_type
    )
    assert withdraw.status_code == 415
    assert Accreditation.objects.get(organisation=actors.school_a).status == before


def test_json_sent_as_json_is_read(practitioner: Caller) -> None:
    for content_type in ("application/json", "application/json; charset=utf-8"):
        response = send(practitioner, "/children/search", json.dumps(SEARCH), content_type)
        assert response.status_code == 200, response.content


def test_a_body_sent_as_another_type_is_refused_only_after_the_token(actors: Actors) -> None:
    response = Client().post(
        API + "/children/search", json.dumps(SEARCH), content_type="text/plain"
    )
    assert response.status_code == 401
