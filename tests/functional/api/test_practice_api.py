"""The practitioner journey through the JSON API, as case-management systems call it: search,
the record's three views, registering and keeping up an involvement, shielding, sensitive
services, quotas and malformed requests. The services are tested in test_practice.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from contactpoint.access.models import User
from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor
from contactpoint.audit.models import Event
from contactpoint.practice import involvements
from contactpoint.practice.involvements import Details
from contactpoint.practice.record import ADDITIONAL_SERVICE
from contactpoint.registry import shield_tags
from contactpoint.registry.models import Child
from tests.support.actors import Actors
from tests.support.api import API, Caller, asked, find, machine
from tests.support.children import found, load_children

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as HttpResponse

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

UNKNOWN_CPID = "CP-0000-0000-0000-0"  # well formed, never issued


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


@pytest.fixture
def school(actors: Actors) -> Caller:
    """A practitioner client at school A (not the school the feeds name)."""
    return Caller(machine(actors, actors.school_a, Role.PRACTITIONER))


@pytest.fixture
def hackney(actors: Actors) -> Caller:
    """A practitioner client at council B."""
    return Caller(machine(actors, actors.council_b, Role.PRACTITIONER))


def register(caller: Caller, cpid: str, **details: Any) -> HttpResponse:
    """Register for the practitioner the client acts for: a user of its organisation."""
    organisation = caller.machine.client.organisation_id
    acting_for = User.objects.filter(organisation_id=organisation, role=Role.PRACTITIONER)
    body = {
        "role": "school_nurse",
        "practitioner": acting_for.order_by("email").values_list("email", flat=True).first(),
        "job_title": "School nurse",
        "phone": "0207 555 0101",
        **details,
    }
    return caller.post(f"/children/{cpid}/involvements", body)


def text(response: HttpResponse) -> str:
    return response.content.decode()


def test_a_client_finds_a_child_despite_a_typo_and_then_may_open_its_record(
    children: dict[str, Child], school: Caller
) -> None:
    cpid = children["amelia"].cpid
    before = school.get(f"/children/{cpid}")
    unknown = school.get(f"/children/{UNKNOWN_CPID}")
    assert before.status_code == unknown.status_code == 404
    assert before.json() == unknown.json()  # no browsing, and no telling who is on the index
    assert register(school, cpid).status_code == 404  # nor by registering

    candidate = find(school, "Hartley", "Amelai", "2015-04-03")  # typo and swapped date
    assert candidate == {
        "cpid": cpid,
        "given_name": "Amelia",
        "family_name": "Hartley",
        "birth_year": 2015,
        "district": "NW1",
    }
    response = school.get(f"/children/{cpid}")
    assert response.status_code == 200
    shown = response.json()
    assert shown["view"] == "identity"
    assert set(shown) == {
        "view",
        "cpid",
        "given_name",
        "family_name",
        "date_of_birth",
        "sex",
        "services_involved",
        "message",
    }
    assert shown["given_name"] == {"value": "Amelia"}
    assert shown["date_of_birth"] == {"value": "2015-03-04"}
    assert shown["services_involved"] == 2  # the GP and the school, from the feeds
    for unseen in ("NW1 3AB", "Test Road", "Parkside", "Elm Tree", "NHS demographics"):
        assert unseen not in text(response)


def test_registering_shows_the_full_record_with_every_service_and_how_to_reach_it(
    children: dict[str, Child], school: Caller, actors: Actors
) -> None:
    cpid = children["amelia"].cpid
    find(school, "Hartley", "Amelia", "2015-03-04")
    made = register(school, cpid, job_title="School nurse")
    assert made.status_code == 201, made.content
    mine = made.json()
    assert (mine["role"], mine["lead"], mine["ended_on"]) == ("school_nurse", False, None)

    response = school.get(f"/children/{cpid}")
    shown = response.json()
    assert shown["view"] == "full" and shown["shielded"] is False
    assert shown["postcode"]["value"] == "NW1 3AB"
    assert shown["postcode"]["source"] == "NHS demographics"
    assert shown["address"]["value"].endswith("Test Road")
    roles = {i["role"]: i for i in shown["involvements"]}
    assert set(roles) == {"GP practice", "School", "School nurse"}
    assert roles["School"]["organisation"]["phone"] == "020 7946 0001"
    own = roles["School nurse"]
    assert own["id"] == mine["id"] and own["mine"] is True
    assert own["practitioner"] == {  # the practitioner the client named, from her account
        "name": actors.alice.name,
        "job_title": "School nurse",
        "phone": "0207 555 0101",
        "email": actors.alice.email,
    }
    assert own["organisation"]["name"] == actors.school_a.name
    assert own["kept_by"] == "Registered in contactpoint"
    assert register(school, cpid).status_code == 409  # already registered in that role


def test_a_client_keeps_its_own_involvement_up_to_date_and_no_one_elses(
    children: dict[str, Child], school: Caller, hackney: Caller
) -> None:
    cpid = children["maya"].cpid
    find(school, "Okafor", "Maya", "2017-06-21")
    involvement = register(school, cpid).json()["id"]
    base = f"/involvements/{involvement}"

    confirmed = school.post(f"{base}/confirm")
    assert confirmed.status_code == 200
    assert confirmed.json()["last_confirmed"] == timezone.localdate().isoformat()
    assert school.post(f"{base}/lead").json()["lead"] is True
    assert school.post(f"{base}/lead").status_code == 409  # already the lead
    assert school.post(f"{base}/caf", {"exists": True}).json()["caf"] is True
    shown = school.get(f"/children/{cpid}").json()
    assert shown["lead"]["id"] == involvement and shown["caf"] is True

    for action in ("confirm", "end", "lead"):
        refused = hackney.post(f"{base}/{action}")
        assert refused.status_code == 403  # another organisation's involvement
        assert "Maya" not in text(refused)
    assert hackney.post(f"{base}/caf", {"exists": False}).status_code == 403
    # Each refusal the service made, after the operation's rule let the client in, is
    # audited under the operation (never the child's ID typed in the path).
    refusals = Event.objects.filter(outcome="refused", principal__startswith="client:")
    assert (
        list(refusals.values_list("action", flat=True)) == ["access:child:involvement:manage"] * 4
    )

    ended = school.post(f"{base}/end")
    assert ended.status_code == 200
    assert ended.json()["ended_on"] == timezone.localdate().isoformat()
    assert ended.json()["lead"] is False
    assert school.post(f"{base}/confirm").status_code == 403  # it is over


def test_a_client_is_told_a_handover_is_agreed_on_the_web(
    children: dict[str, Child], school: Caller, hackney: Caller, actors: Actors
) -> None:
    child = children["maya"]
    found(Actor.of(actors.alice), child)
    theirs = involvements.register(Actor.of(actors.alice), child, Details("school_nurse", "N", "1"))
    involvements.become_lead(Actor.of(actors.alice), theirs.pk)
    find(hackney, "Okafor", "Maya", "2017-06-21")
    mine = register(hackney, child.cpid, role="social_worker").json()["id"]
    response = hackney.post(f"/involvements/{mine}/lead")
    assert response.status_code == 409
    assert "web service" in response.json()["detail"]


def test_a_sensitive_service_shows_to_another_organisations_client_only_as_one_involved(
    children: dict[str, Child], school: Caller, hackney: Caller, actors: Actors
) -> None:
    cpid = children["oliver"].cpid
    find(hackney, "Smith-Jones", "Oliver", "2014-11-09")
    without_consent = register(
        hackney, cpid, role="health_service", sensitive_category="mental_health"
    )
    assert without_consent.status_code == 400
    assert "consent" in without_consent.json()["detail"]
    sensitive = register(
        hackney,
        cpid,
        role="health_service",
        sensitive_category="mental_health",
        consent_basis="young_person_consent",
    )
    assert sensitive.status_code == 201
    find(school, "Smith-Jones", "Oliver", "2014-11-09")
    register(school, cpid)

    seen = school.get(f"/children/{cpid}")
    hidden = [i for i in seen.json()["involvements"] if i["sensitive"]]
    assert hidden == [{"sensitive": True, "mine": False, "description": ADDITIONAL_SERVICE}]
    worker = actors.charlie.name  # the practitioner Hackney's client registers for
    for secret in (worker, actors.council_b.name, "Health service", sensitive.json()["id"]):
        assert secret not in text(seen)
    own = [i for i in hackney.get(f"/children/{cpid}").json()["involvements"] if i["mine"]]
    assert [(i["sensitive"], i["practitioner"]["name"]) for i in own] == [(True, worker)]


def test_a_shielded_child_is_withheld_from_practitioners_and_full_for_its_local_index_team(
    children: dict[str, Child], school: Caller, actors: Actors
) -> None:
    child = children["jacob"]
    shield_tags.shield([child.pk])
    candidate = find(school, "Wright", "Jacob", "2012-01-15")
    assert candidate["district"] is None

    withheld = school.get(f"/children/{child.cpid}")
    assert withheld.status_code == 200
    shown = withheld.json()
    assert set(shown) == {
        "view",
        "cpid",
        "given_name",
        "family_name",
        "date_of_birth",
        "sex",
        "message",
    }
    assert shown["view"] == "withheld" and "local index team" in shown["message"]
    assert shown["family_name"] == {"value": "Wright"}
    for hidden in ("N16", "Test Road", "London", "Parkside", "Elm Tree", "NHS demographics"):
        assert hidden not in text(withheld)
    refused = register(school, child.cpid)
    assert refused.status_code == 403 and "shielded" in refused.json()["detail"]

    # Camden's index team (the feeds' school and GP are in Camden) sees it, unasked.
    camden = Caller(machine(actors, actors.council_a, Role.INDEX_TEAM))
    full = camden.get(f"/children/{child.cpid}").json()
    assert full["view"] == "full" and full["shielded"] is True
    assert full["postcode"]["value"] == "N16 7AB"
    schools = [i for i in full["involvements"] if i["role"] == "School"]
    assert schools[0]["organisation"]["name"] == "Parkside Primary School"
    # Hackney's index team is not the child's: it needs a search, and sees what others see.
    hackney_team = Caller(machine(actors, actors.council_b, Role.INDEX_TEAM))
    assert hackney_team.get(f"/children/{child.cpid}").status_code == 404
    find(hackney_team, "Wright", "Jacob", "2012-01-15")
    assert hackney_team.get(f"/children/{child.cpid}").json()["view"] == "withheld"


@override_settings(CONTACTPOINT_SEARCHES_PER_HOUR=2)
def test_the_hourly_quota_answers_429_to_that_client_only(
    children: dict[str, Child], school: Caller, hackney: Caller
) -> None:
    body = asked("Wright", "Jacob", "2012-01-15")
    assert [school.post("/children/search", body).status_code for _ in range(3)] == [200, 200, 429]
    assert "try again later" in school.post("/children/search", body).json()["detail"]
    assert hackney.post("/children/search", body).status_code == 200


def test_malformed_requests_are_refused_with_a_reason_that_repeats_nothing_sent(
    children: dict[str, Child], school: Caller
) -> None:
    headers = {"Authorization": f"Bearer {school.token}"}
    not_json = Client().post(
        f"{API}/children/search", "{not json", content_type="application/json", headers=headers
    )
    assert not_json.status_code == 400 and not_json.json()["detail"]

    weak = school.post("/children/search", asked("Zq9", "", "2015-03-04"))
    assert weak.status_code == 400
    assert set(weak.json()["errors"]) == {"family_name"}
    assert "Zq9" not in json.dumps(weak.json())
    # A year ahead: the service refuses it (400); a year past 2199 the API itself (422).
    next_year = str(timezone.localdate().year + 1)
    unborn = school.post("/children/search", asked("Hartley", "Amelia", f"{next_year}-01-01"))
    assert set(unborn.json()["errors"]) == {"date_of_birth"}
    too_far = school.post("/children/search", asked("Hartley", "Amelia", "2999-01-01"))
    assert too_far.status_code == 422 and "date_of_birth" in too_far.json()["detail"]
    missing = school.post("/children/search", asked("Hartley", "", "2015-03-04"))
    assert missing.json()["errors"] == {"search": "Add the child's given name or a postcode"}
    wildcard = school.post("/children/search", asked("Hart%", "Amelia", "2015-03-04"))
    assert "wildcards" in wildcard.json()["errors"]["family_name"]

    not_a_date = school.post("/children/search", asked("Hartley", "Amelia", "4 March 2015"))
    assert not_a_date.status_code == 422
    assert "date_of_birth" in not_a_date.json()["detail"]
    assert "March" not in not_a_date.json()["detail"]
    too_long = school.post("/children/search", asked("H" * 101, "Amelia", "2015-03-04"))
    assert too_long.status_code == 422

    cpid = children["amelia"].cpid
    find(school, "Hartley", "Amelia", "2015-03-04")
    assert register(school, cpid, role="wizard").status_code == 400
    assert register(school, cpid, role="gp").status_code == 400  # not a school's role
    assert register(school, cpid, practitioner="not an address").status_code == 403
    assert register(school, cpid, practitioner="").status_code == 422
    assert register(school, cpid, job_title="Sam\x00").status_code == 422
    assert school.post(f"/children/{cpid}/involvements", {"role": "gp"}).status_code == 422
    assert school.post("/involvements/not-an-id/confirm").status_code == 422
    unknown = school.post("/involvements/00000000-0000-0000-0000-000000000001/confirm")
    assert unknown.status_code == 403
    assert school.get("/children/CP-" + "X" * 40).status_code == 422
    assert school.get("/children/not-a-cpid").status_code == 404
