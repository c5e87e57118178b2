"""The JSON API through HTTP: tokens, the OpenAPI document, and the same rules as the pages."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from contactpoint.access import throttle
from contactpoint.access.clients import TOKEN_SECONDS, disable_client
from contactpoint.access.models import ApiToken, User
from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor
from contactpoint.api.api import operations
from contactpoint.audit.models import Event
from tests.support.actors import Actors, signed_in
from tests.support.api import API, FORM, TOKEN_URL, Caller, basic, grant, machine, new_user

if TYPE_CHECKING:
    # What the test client answers: an HttpResponse with .json().
    pass

TODAY = dt.date.today()


@pytest.fixture
def index_a(actors: Actors) -> Caller:
    return Caller(machine(actors, actors.council_a, Role.INDEX_TEAM))


@pytest.fixture
def national(actors: Actors) -> Caller:
    return Caller(machine(actors, actors.national, Role.NATIONAL_ADMIN))


# --- tokens --------------------------------------------------------------------------------


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_client_trades_its_secret_for_a_token_and_calls_with_it(actors: Actors) -> None:
    m = machine(actors, actors.council_a, Role.INDEX_TEAM)
    response = grant(m.id, m.secret)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    answer = response.json()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == TOKEN_SECONDS
    account = Client().get(
        f"{API}/account", headers={"Authorization": f"Bearer {answer['access_token']}"}
    )
    assert account.status_code == 200
    assert account.json() == {
        "client_id": m.id,
        "name": "Camden Children's Services system",
        "organisation_code": "TCAMDEN",
        "organisation_name": "Camden Children's Services",
        "role": "index_team",
        "permissions": [
            "self:account:read",
            "self:account:update",
            "self:second-factor:manage",
            "organisation:users:read",
            "area:users:read",
            "area:users:manage",
            "area:organisations:read",
            "area:organisations:manage",
            "child:contacts:read",
            "self:alerts:read",
            "child:records:search",
            "child:record:read",
            "child:involvement:register",
            "child:involvement:manage",
            "child:emergency-access:use",
            "area:shielded-children:read",
            "area:shielding:decide",
            "area:archived-children:read",
            "area:retention:manage",
            "area:subject-access:manage",
            "area:rectification:manage",
            "area:family-notices:manage",
            "area:linkage-review:decide",
        ],
    }


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_form_fields_may_authenticate_the_client_instead(actors: Actors) -> None:
    m = machine(actors, actors.council_a, Role.INDEX_TEAM)
    form = {"grant_type": "client_credentials", "client_id": m.id, "client_secret": m.secret}
    response = Client().post(TOKEN_URL, urlencode(form), content_type=FORM)
    assert response.status_code == 200 and response.json()["access_token"]


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_client_authenticating_two_ways_at_once_is_a_bad_request(actors: Actors) -> None:
    m = machine(actors, actors.council_a, Role.INDEX_TEAM)
    response = grant(m.id, m.secret, client_id=m.id, client_secret=m.secret)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_only_the_client_credentials_grant_is_supported(actors: Actors) -> None:
    m = machine(actors, actors.council_a, Role.INDEX_TEAM)
    response = grant(m.id, m.secret, grant_type="password")
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"
    missing = Client().post(
        TOKEN_URL, "", content_type=FORM, headers={"Authorization": basic(m.id, m.secret)}
    )
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_wrong_secret_and_an_unknown_client_get_the_same_answer(actors: Actors) -> None:
    m = machine(actors, actors.council_a, Role.INDEX_TEAM)
    wrong = grant(m.id, m.secret + "x")
    unknown = grant("cp_AAAAAAAAAAAAAAAA", m.secret)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.content == unknown.content
    assert wrong.json()["error"] == "invalid_client"
    assert wrong["WWW-Authenticate"] == unknown["WWW-Authenticate"]
    assert m.secret not in wrong.content.decode()


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_grants_are_refused_for_a_while_after_ten_failures(actors: Actors) -> None:
    m = machine(actors, actors.council_a, Role.INDEX_TEAM)
    for _ in range(throttle.TOKEN_PER_CLIENT.attempts):
        assert grant(m.id, "guess").status_code == 401
    refused = grant(m.id, m.secret)  # even the right secret, until the window passes
    assert refused.status_code == 429
    assert refused.json()["error"] == "too_many_attempts"
    assert int(refused["Retry-After"]) > 0


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_an_expired_token_is_refused(actors: Actors, index_a: Caller) -> None:
    assert index_a.get("/account").status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = index_a.get("/account")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_token_ends_when_its_client_is_disabled(actors: Actors, index_a: Caller) -> None:
    assert index_a.get("/account").status_code == 200
    disable_client(Actor.of(actors.nadia), index_a.machine.client)
    assert index_a.get("/account").status_code == 401
    again = grant(index_a.machine.id, index_a.machine.secret)
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_withdrawing_accreditation_ends_the_organisations_tokens(
    actors: Actors, index_a: Caller, national: Caller
) -> None:
    withdrawn = national.post(
        "/organisations/TCAMDEN/accreditation",
        {"expires_on": str(TODAY + dt.timedelta(days=30)), "withdrawn": True},
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert index_a.get("/account").status_code == 401
    assert grant(index_a.machine.id, index_a.machine.secret).status_code == 401


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_no_token_or_a_made_up_token_is_401_with_a_bearer_challenge(actors: Actors) -> None:
    none = Client().get(f"{API}/users")
    made_up = Client().get(f"{API}/users", headers={"Authorization": "Bearer not-a-token"})
    assert none.status_code == made_up.status_code == 401
    assert none["WWW-Authenticate"] == 'Bearer realm="contactpoint"'
    assert made_up["WWW-Authenticate"] == 'Bearer realm="contactpoint", error="invalid_token"'


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_web_session_does_not_authenticate_the_api(actors: Actors) -> None:
    browser = signed_in(actors.ian)
    assert browser.get(f"{API}/users").status_code == 401
    created = browser.post(
        f"{API}/users",
        json.dumps(new_user("x@school-a.example", actors.school_a)),
        content_type="application/json",
    )
    assert created.status_code == 401
    assert not User.objects.filter(email="x@school-a.example").exists()


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_bearer_requests_need_no_csrf_token(actors: Actors) -> None:
    caller = Caller(machine(actors, actors.council_a, Role.INDEX_TEAM))
    caller.http = Client(enforce_csrf_checks=True)
    disabled = caller.post(f"/users/{actors.alice.id}/disable")
    assert disabled.status_code == 200


# --- the OpenAPI document ------------------------------------------------------------------


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_the_openapi_document_lists_every_operation_with_its_rule() -> None:
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= next(iter(schemes.values())).items()
    for op in operations():
        described = document["paths"][API + op.path][op.method.lower()]
        assert described["x-access-rule"] == op.rule
        assert ("security" in described) == (op.rule != "public")


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_the_interactive_docs_page_is_off() -> None:
    assert Client().get(f"{API}/docs").status_code == 404


# --- the same rules as the pages -----------------------------------------------------------


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_an_index_team_client_lists_its_areas_users_only(actors: Actors, index_a: Caller) -> None:
    response = index_a.get("/users")
    assert response.status_code == 200
    page = response.json()
    emails = {u["email"] for u in page["items"]}
    assert emails == {u.email for u in (actors.alice, actors.bob, actors.petra, actors.ian)}
    assert page["count"] == 4
    assert set(page["items"][0]) == {
        "id",
        "email",
        "name",
        "organisation_code",
        "role",
        "enabled",
        "suspensions",
    }


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_the_user_list_is_paged_at_most_100(actors: Actors, index_a: Caller) -> None:
    page = index_a.get("/users", limit=2, offset=1).json()
    assert page["count"] == 4 and len(page["items"]) == 2
    assert page["items"][0]["email"] == "bob@school-a.example"
    assert index_a.get("/users", limit=101).status_code == 422
    huge = index_a.get("/users", offset=2**80)  # past what the database can hold
    assert huge.status_code == 422 and "offset" in huge.json()["detail"]


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_users_of_another_area_are_not_found(actors: Actors, index_a: Caller) -> None:
    assert index_a.get(f"/users/{actors.alice.id}").json()["email"] == actors.alice.email
    assert index_a.get(f"/users/{actors.isla.id}").status_code == 404
    assert index_a.get("/users/not-a-uuid").status_code == 404
    assert index_a.post(f"/users/{actors.charlie.id}/disable").status_code == 404
    actors.charlie.refresh_from_db()
    assert actors.charlie.enabled


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
@pytest.mark.parametrize("role", [Role.INDEX_TEAM, Role.NATIONAL_ADMIN])
def test_no_client_creates_enables_recertifies_or_promotes_a_person(
    actors: Actors, role: Role
) -> None:
    """A stolen client secret mints no account and vouches for nobody: each operation
    answers 403 with the reason, is audited as refused, and no password ever leaves."""
    organisation = actors.council_a if role is Role.INDEX_TEAM else actors.national
    client = Caller(machine(actors, organisation, role))
    refused_before = Event.objects.filter(outcome="refused").count()
    calls = [
        client.post("/users", new_user("sock@school-a.example", actors.school_a)),
        client.post(
            f"/users/{actors.alice.id}/enable",
            {"vetting_checked_on": str(TODAY), "training_completed_on": str(TODAY)},
        ),
        client.post(f"/users/{actors.alice.id}/recertify"),
        client.post(f"/users/{actors.alice.id}/role", {"role": "index_team"}),
    ]
    for answer in calls:
        assert answer.status_code == 403
        assert answer.json()["detail"].startswith("a machine client cannot")
        assert "password" not in answer.json()
    assert Event.objects.filter(outcome="refused").count() == refused_before + len(calls)
    assert not User.objects.filter(email="sock@school-a.example").exists()
    actors.alice.refresh_from_db()
    # The day the change ran (TODAY is the day of import: a run may cross midnight).
    assert actors.alice.role == "practitioner"
    assert actors.alice.certified_on in {TODAY, dt.date.today()}


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_an_index_team_client_cannot_reach_beyond_its_area_or_role(
    actors: Actors, index_a: Caller
) -> None:
    elsewhere = index_a.post(f"/users/{actors.charlie.id}/disable")
    assert elsewhere.status_code == 404  # outside its reach: as if nobody were there
    officer = index_a.post(f"/users/{actors.petra.id}/disable")
    assert officer.status_code == 403 and "privacy officer" in officer.json()["detail"]
    assert User.objects.get(pk=actors.petra.pk).enabled
    hackney = index_a.post(
        "/organisations/THACKNEY/accreditation", {"expires_on": str(TODAY), "withdrawn": True}
    )
    assert hackney.status_code == 403 and hackney.json() == {"detail": "another council area"}
    assert actors.council_b.accreditation.status == "accredited"
    nowhere = index_a.post("/organisations/NOPE/accreditation", {"expires_on": str(TODAY)})
    assert nowhere.status_code == 404


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_an_index_team_client_disables_a_practitioner_of_its_area(
    actors: Actors, index_a: Caller
) -> None:
    disabled = index_a.post(f"/users/{actors.alice.id}/disable")
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_practitioner_client_is_refused_the_user_operations(actors: Actors) -> None:
    practitioner = Caller(machine(actors, actors.school_a, Role.PRACTITIONER))
    listed = practitioner.get("/users")
    assert listed.status_code == 403
    assert listed.json() == {"detail": "the practitioner role does not have it"}
    created = practitioner.post("/users", new_user("p@school-a.example", actors.school_a))
    assert created.status_code == 403
    assert practitioner.get("/account").status_code == 200


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_privacy_officer_client_sees_its_own_organisation(actors: Actors) -> None:
    officer = Caller(machine(actors, actors.school_a, Role.PRIVACY_OFFICER))
    emails = {u["email"] for u in officer.get("/users").json()["items"]}
    assert emails == {actors.alice.email, actors.bob.email, actors.petra.email}
    assert officer.post(f"/users/{actors.alice.id}/recertify").status_code == 403


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_national_admin_client_disables_and_accredits_anywhere(
    actors: Actors, national: Caller
) -> None:
    disabled = national.post(f"/users/{actors.charlie.id}/disable")
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    renewed = national.post(
        "/organisations/THACKNEY/accreditation", {"expires_on": str(TODAY + dt.timedelta(days=400))}
    )
    assert renewed.status_code == 200 and renewed.json()["status"] == "accredited"


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_national_admin_client_lists_and_reads_every_user(
    actors: Actors, national: Caller
) -> None:
    listed = national.get("/users")
    assert listed.status_code == 200 and listed.json()["count"] == len(actors.all())
    assert national.get(f"/users/{actors.charlie.id}").status_code == 200
