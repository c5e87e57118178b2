"""The API keeps to the OpenAPI document it publishes, under generated requests.

schemathesis reads `/api/v1/openapi.json` from the application itself (WSGI, no server)
and, for every operation, sends requests that hypothesis generates from the document, as
a national administrator's client (the caller who may reach every operation). Each answer
must not be a server error, must have a status and a body the document declares, and an
operation must refuse a request without the bearer token.

A national administrator holds no child permission, so the practitioner journey's operations
are tried again as a practitioner's client, with children on the index: there the generated
criteria, details and IDs reach the search, the record and the involvement services.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis import checks

from contactpoint.access import clients
from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor
from tests.actors import Actors
from tests.children import load_children

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.ignored_auth,
]


@pytest.fixture
def bearer(actors: Actors) -> dict[str, str]:
    nadia = Actor.of(actors.nadia)
    client, secret = clients.create_client(
        nadia, name="schema check", organisation=actors.national, role=Role.NATIONAL_ADMIN
    )
    token, _ = clients.issue_token(client.client_id, secret)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_as_its_openapi_document_says(case: Any, bearer: dict[str, str]) -> None:
    headers = bearer if case.operation.path != "/oauth/token" else {}
    case.call_and_validate(headers=headers, checks=CHECKS)


@pytest.fixture
def practitioner(actors: Actors, feeds: Path) -> dict[str, str]:
    load_children(feeds)
    client, secret = clients.create_client(
        Actor.of(actors.nadia),
        name="schema check",
        organisation=actors.school_a,
        role=Role.PRACTITIONER,
    )
    token, _ = clients.issue_token(client.client_id, secret)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
@schema.include(tag="children").parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_practitioner_journey_answers_as_its_document_says(
    case: Any, practitioner: dict[str, str]
) -> None:
    case.call_and_validate(headers=practitioner, checks=CHECKS)
