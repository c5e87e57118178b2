"""The API keeps to the OpenAPI document it publishes, under generated requests, for every
kind of caller: a client of each role, and nobody.

schemathesis reads `/api/v1/openapi.json` from the application itself (WSGI, no server)
and, for every operation in the document, sends requests that hypothesis generates from it:
valid ones (positive) and ones the document forbids (negative: wrong types, missing
fields, impossible dates). Each answer must not be a server error, must have a status,
content type and body the document declares, and (for a client) the operation must refuse
the same request without the bearer token.

One test per caller runs every operation in one database, so that the set-up (and, for the
roles that hold the child permissions, children on the index) is paid once per role; the
examples per operation are bounded so the suite stays quick. The number of cases that ran
is printed in the security figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from contactpoint.access import clients
from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor
from tests.support.actors import Actors
from tests.support.children import load_children
from tests.support.security import report

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

ANSWERS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
TOKEN = "/oauth/token"  # public: the one operation tried without a bearer token by everyone


@dataclass(frozen=True)
class Caller:
    organisation: str  # an attribute of Actors
    role: Role
    examples: int  # per operation
    children: bool = False  # the role holds the child permissions: load children first


# Every role a client can hold; the roles without child permissions meet 403 before any
# service, so fewer examples show all they can answer.
CALLERS = {
    "practitioner": Caller("school_a", Role.PRACTITIONER, 12, children=True),
    "index_team": Caller("council_a", Role.INDEX_TEAM, 12, children=True),
    "privacy_officer": Caller("school_a", Role.PRIVACY_OFFICER, 6),
    "national_admin": Caller("national", Role.NATIONAL_ADMIN, 8),
}
ANONYMOUS_EXAMPLES = 5


@dataclass
class Tally:
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


def run_every_operation(headers: dict[str, str], examples: int, extra: list[Any]) -> Tally:
    """Generate `examples` cases (positive and negative) for each operation and check them;
    a failing operation is recorded (its first failure, shrunk) and the rest still run."""
    tally = Tally()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the document itself is valid
        operation = result.ok()
        public = operation.path == TOKEN
        check = checker(operation, {} if public else headers, ANSWERS + ([] if public else extra))
        try:
            settings(
                max_examples=examples,
                deadline=None,
                database=None,
                phases=[Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            )(check)(tally)
        except Exception as failure:  # each operation's first failure is reported
            tally.failures[operation.label] = str(failure)[:2000]
    return tally


def checker(operation: Any, headers: dict[str, str], answers: list[Any]) -> Any:
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    def check(tally: Tally, case: Any) -> None:
        response = case.call_and_validate(headers=headers, checks=answers)
        tally.cases += 1
        tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1

    return check


def client_headers(actors: Actors, caller: Caller) -> dict[str, str]:
    client, secret = clients.create_client(
        Actor.of(actors.nadia),
        name=f"schema check ({caller.role.value})",
        organisation=getattr(actors, caller.organisation),
        role=caller.role,
    )
    token, _ = clients.issue_token(client.client_id, secret)
    return {"Authorization": f"Bearer {token}"}


def reported(who: str, tally: Tally) -> None:
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items()))
    report(f"schemathesis as {who}: {tally.cases} cases over the whole document ({statuses})")


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
@pytest.mark.parametrize("who", list(CALLERS))
def test_each_role_s_client_gets_only_answers_the_document_declares(
    who: str, actors: Actors, feeds: Path
) -> None:
    caller = CALLERS[who]
    if caller.children:
        load_children(feeds)
    tally = run_every_operation(
        client_headers(actors, caller), caller.examples, [checks.ignored_auth]
    )
    reported(f"a {who} client", tally)
    assert tally.failures == {}
    assert tally.cases >= len(list(schema.get_all_operations()))


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_nobody_gets_only_answers_the_document_declares() -> None:
    tally = run_every_operation({}, ANONYMOUS_EXAMPLES, [])
    reported("nobody (no token)", tally)
    assert tally.failures == {}
    # Every operation but the token endpoint answered 401 to every case.
    assert set(tally.statuses) - {400, 401, 415, 422, 429} == set()


def test_every_role_a_client_can_hold_is_tried() -> None:
    assert {c.role for c in CALLERS.values()} == set(Role)
