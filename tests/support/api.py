"""The JSON API as a machine client calls it: a client and its secret, a token, calls."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.test import Client

from contactpoint.access.clients import create_client
from contactpoint.access.models import ApiClient
from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor
from contactpoint.registry.models import Organisation
from tests.support.actors import Actors

if TYPE_CHECKING:
    # What the test client answers: an HttpResponse with .json().
    from django.test.client import _MonkeyPatchedWSGIResponse as HttpResponse


API = "/api/v1"
TOKEN_URL = f"{API}/oauth/token"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Machine:
    """An API client and its secret, as the operator handed them over."""

    client: ApiClient
    secret: str

    @property
    def id(self) -> str:
        return self.client.client_id


def machine(actors: Actors, organisation: Organisation, role: Role) -> Machine:
    client, secret = create_client(
        Actor.of(actors.nadia),
        name=f"{organisation.name} system",
        organisation=organisation,
        role=role,
    )
    return Machine(client, secret)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def grant(cid: str, secret: str, **form: str) -> HttpResponse:
    data = {"grant_type": "client_credentials", **form}
    return Client().post(
        TOKEN_URL,
        urlencode(data),
        content_type=FORM,
        headers={"Authorization": basic(cid, secret)},
    )


def token_of(m: Machine) -> str:
    response = grant(m.id, m.secret)
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


class Caller:
    """Calls the API as one machine client, with a fresh token."""

    def __init__(self, m: Machine) -> None:
        self.machine = m
        self.token = token_of(m)
        self.http = Client()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **query: Any) -> HttpResponse:
        return self.http.get(API + path, query, headers=self._headers())

    def post(self, path: str, body: dict[str, Any] | None = None) -> HttpResponse:
        return self.http.post(
            API + path,
            json.dumps(body or {}),
            content_type="application/json",
            headers=self._headers(),
        )


def new_user(
    email: str, organisation: Organisation, role: Role = Role.PRACTITIONER
) -> dict[str, str]:
    return {
        "email": email,
        "name": "Nora New",
        "organisation_code": organisation.code,
        "role": role.value,
    }


def asked(family: str, given: str, born: str, **more: str) -> dict[str, str]:
    return {
        "purpose": "starting_work",
        "family_name": family,
        "given_name": given,
        "date_of_birth": born,
        **more,
    }


def find(caller: Caller, family: str, given: str, born: str) -> dict[str, Any]:
    response = caller.post("/children/search", asked(family, given, born))
    assert response.status_code == 200, response.content
    (candidate,) = response.json()["candidates"]
    return dict(candidate)
