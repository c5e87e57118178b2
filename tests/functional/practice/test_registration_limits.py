"""Self-registration held to account (docs/practice.md, "Who may register as what"): the
role declared must be one the organisation's kind has, a day's new involvements are limited
per practitioner and per organisation (an audited refusal), an API client names the
practitioner it acts for, and searches are limited per organisation as well. Through the
web pages and the JSON API; misuse rules on registrations are in
test_registration_limits_oversight.py."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client, override_settings

from contactpoint.access.clients import client_principal
from contactpoint.access.models import User
from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor
from contactpoint.audit.models import Event
from contactpoint.practice.involvements.registration import NOT_OURS, ROLES_BY_KIND
from contactpoint.registry.models import Child, Involvement, Organisation
from tests.support.actors import Actors, signed_in
from tests.support.api import Caller, machine
from tests.support.children import PEOPLE, at, found, load_children, one_at
from tests.support.events import about, details_of

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as HttpResponse

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

REGISTER = "child:involvement:register"
NURSE = {"role": "school_nurse", "job_title": "School nurse", "phone": "020 7946 0101"}


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


@pytest.fixture
def school(actors: Actors) -> Caller:
    """A practitioner client at school A."""
    return Caller(machine(actors, actors.school_a, Role.PRACTITIONER))


def on_web(client: Client, child: Child, **details: str) -> HttpResponse:
    return client.post(f"/children/{child.cpid}/involvements", {**NURSE, **details})


def by_api(caller: Caller, child: Child, **details: Any) -> HttpResponse:
    found(Actor(client_principal(caller.machine.client)), child)
    body = {"role": "school_nurse", "job_title": "School nurse", "phone": "0207 555 0101"}
    return caller.post(f"/children/{child.cpid}/involvements", {**body, **details})


def web_user(user: User, *children: Child) -> Client:
    for child in children:
        found(Actor.of(user), child)
    return signed_in(user)


def involved(organisation: Organisation, child: Child) -> bool:
    return bool(at(organisation, child=child))


def refusals(user_or_principal: User | str, child: Child) -> list[Event]:
    principal = (
        user_or_principal if isinstance(user_or_principal, str) else f"user:{user_or_principal.pk}"
    )
    return list(about(child.pk).filter(action=REGISTER, outcome="refused", principal=principal))


# Roles by organisation kind -----------------------------------------------------------------


def test_every_kind_of_organisation_has_roles_and_every_role_a_kind() -> None:
    assert set(ROLES_BY_KIND) == set(Organisation.Kind.values)
    assert set().union(*ROLES_BY_KIND.values()) == set(Involvement.Role.values)


def test_a_school_may_not_declare_itself_a_childs_social_worker_or_gp(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    alice = web_user(actors.alice, amelia)
    for role in ("social_worker", "gp", "police_cpu"):
        response = on_web(alice, amelia, role=role)
        assert response.status_code == 400, role
        assert "A school may register only as: school, school nurse, early help" in (
            response.content.decode()
        )
    assert not involved(actors.school_a, amelia)
    assert on_web(alice, amelia).status_code == 302  # a school nurse is one of its roles
    assert involved(actors.school_a, amelia)


def test_the_register_form_offers_only_the_roles_of_the_organisations_kind(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    school_page = web_user(actors.alice, amelia).get(f"/children/{amelia.cpid}")
    council_page = web_user(actors.charlie, amelia).get(f"/children/{amelia.cpid}")
    school_html, council_html = school_page.content.decode(), council_page.content.decode()
    assert 'value="school_nurse"' in school_html and 'value="social_worker"' not in school_html
    assert 'value="gp"' not in school_html
    assert 'value="social_worker"' in council_html and 'value="gp"' not in council_html


def test_a_client_may_not_declare_a_role_its_organisations_kind_lacks(
    children: dict[str, Child], actors: Actors, school: Caller
) -> None:
    amelia = children["amelia"]
    response = by_api(school, amelia, role="social_worker", practitioner=actors.alice.email)
    assert response.status_code == 400
    assert "A school may register only as" in response.json()["detail"]
    assert not involved(actors.school_a, amelia)


# Daily limits -------------------------------------------------------------------------------


@override_settings(CONTACTPOINT_REGISTRATIONS_PER_USER=2)
def test_a_practitioners_registrations_stop_at_the_daily_limit_and_the_refusal_is_audited(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia, oliver, maya = children["amelia"], children["oliver"], children["maya"]
    alice = web_user(actors.alice, amelia, oliver, maya)
    assert on_web(alice, amelia).status_code == 302
    assert on_web(alice, oliver).status_code == 302
    refused = on_web(alice, maya)
    assert refused.status_code == 429
    assert "daily limit on new involvements is reached" in refused.content.decode()
    assert not involved(actors.school_a, maya)
    (event,) = refusals(actors.alice, maya)
    assert details_of(event) == {"reason": "daily limit", "for_user": str(actors.alice.pk)}
    # The limit is per person: a colleague still may.
    assert on_web(web_user(actors.bob, maya), maya).status_code == 302


@override_settings(CONTACTPOINT_REGISTRATIONS_PER_ORGANISATION=2)
def test_an_organisations_users_together_stop_at_its_daily_limit(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia, oliver, maya = children["amelia"], children["oliver"], children["maya"]
    assert on_web(web_user(actors.alice, amelia), amelia).status_code == 302
    bob = web_user(actors.bob, oliver, maya)
    assert on_web(bob, oliver).status_code == 302
    assert on_web(bob, maya).status_code == 429
    assert len(refusals(actors.bob, maya)) == 1
    # Another organisation has its own count.
    charlie = web_user(actors.charlie, maya)
    assert on_web(charlie, maya, role="social_worker").status_code == 302


@override_settings(CONTACTPOINT_REGISTRATIONS_PER_USER=1)
def test_the_count_is_kept_by_the_database_not_read_from_involvements(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia, oliver = children["amelia"], children["oliver"]
    alice = web_user(actors.alice, amelia, oliver)
    # A refused declaration is not a registration: it does not count.
    assert on_web(alice, amelia, role="gp").status_code == 400
    assert on_web(alice, amelia).status_code == 302
    # Ending the involvement does not give the registration back.
    mine = one_at(actors.school_a, child=amelia)
    assert alice.post(f"/involvements/{mine.pk}/end", {"confirmed": "yes"}).status_code == 302
    assert on_web(alice, oliver).status_code == 429
    assert not involved(actors.school_a, oliver)


# An API client names the practitioner it acts for ---------------------------------------------


def test_a_client_must_name_the_practitioner_it_registers_for(
    children: dict[str, Child], actors: Actors, school: Caller
) -> None:
    amelia = children["amelia"]
    nameless = by_api(school, amelia, name="Sam Nurse", email="sam@school.example")
    assert nameless.status_code == 422
    assert "practitioner" in nameless.json()["detail"]
    assert not involved(actors.school_a, amelia)


def test_a_client_may_act_only_for_an_active_practitioner_of_its_own_organisation(
    children: dict[str, Child], actors: Actors, school: Caller
) -> None:
    amelia = children["amelia"]
    for someone in (actors.charlie.email, "nobody@school-a.example"):  # not the school's
        response = by_api(school, amelia, practitioner=someone)
        assert (response.status_code, response.json()["detail"]) == (403, NOT_OURS)
    petra = by_api(school, amelia, practitioner=actors.petra.email)  # a privacy officer
    assert petra.status_code == 403 and "may not register" in petra.json()["detail"]
    User.objects.filter(pk=actors.bob.pk).update(enabled=False)
    bob = by_api(school, amelia, practitioner=actors.bob.email)  # not active
    assert bob.status_code == 403 and "may not register" in bob.json()["detail"]
    assert not involved(actors.school_a, amelia)
    client = client_principal(school.machine.client).key
    refused = Event.objects.filter(action=f"access:{REGISTER}", outcome="refused", principal=client)
    assert refused.count() == 4

    made = by_api(school, amelia, practitioner=actors.alice.email.upper())
    assert made.status_code == 201
    involvement = Involvement.objects.get(pk=made.json()["id"])
    assert involvement.practitioner is not None
    assert involvement.practitioner.user_id == actors.alice.pk
    assert involvement.practitioner.email == actors.alice.email  # from her account
    (event,) = Event.objects.filter(action=REGISTER, outcome="allowed", principal=client)
    assert details_of(event)["for_user"] == str(actors.alice.pk)


@override_settings(CONTACTPOINT_REGISTRATIONS_PER_USER=1)
def test_a_clients_registrations_count_against_the_practitioner_it_names(
    children: dict[str, Child], actors: Actors, school: Caller
) -> None:
    amelia, oliver = children["amelia"], children["oliver"]
    assert on_web(web_user(actors.alice, amelia), amelia).status_code == 302
    refused = by_api(school, oliver, practitioner=actors.alice.email)
    assert refused.status_code == 429
    assert "daily limit on new involvements" in refused.json()["detail"]
    assert len(refusals(client_principal(school.machine.client).key, oliver)) == 1
    assert by_api(school, oliver, practitioner=actors.bob.email).status_code == 201


# Search quotas per organisation -------------------------------------------------------------


def criteria(key: str) -> dict[str, str]:
    given, family, born, _sex, _postcode = PEOPLE[key]
    year, month, day = born.split("-")
    return {
        "purpose": "starting_work",
        "family_name": family,
        "given_name": given,
        "dob-day": day,
        "dob-month": month,
        "dob-year": year,
    }


@override_settings(CONTACTPOINT_SEARCHES_PER_ORGANISATION=2)
def test_an_organisations_searches_stop_at_its_daily_quota_whoever_searches(
    children: dict[str, Child], actors: Actors, school: Caller
) -> None:
    alice, bob = signed_in(actors.alice), signed_in(actors.bob)
    # A search that finds children is answered by a redirect to its results.
    assert alice.post("/search", criteria("amelia")).status_code == 303
    assert bob.post("/search", criteria("oliver")).status_code == 303
    refused = bob.post("/search", criteria("maya"))
    assert refused.status_code == 429
    assert "your organisation" in refused.content.decode()
    given, family, born, _sex, _postcode = PEOPLE["maya"]
    body = {"purpose": "starting_work", "family_name": family, "given_name": given}
    api = school.post("/children/search", {**body, "date_of_birth": born})
    assert api.status_code == 429  # the school's client shares the school's quota
    searches = Event.objects.filter(action="child:records:search", outcome="refused")
    assert searches.count() == 2
    # Another organisation has its own quota.
    assert signed_in(actors.charlie).post("/search", criteria("maya")).status_code in (200, 303)
