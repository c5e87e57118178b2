"""Who may register an involvement, as what, and how many a day: the roles of each kind of
organisation, the person a client names, and the day's limits in the throttle counters."""

from __future__ import annotations

from typing import Any

import pytest

from contactpoint.access.clients import client_principal, create_client
from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.practice.involvements import registration
from contactpoint.practice.involvements.registration import RoleNotAllowed
from tests.support.actors import Actors

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def test_a_school_may_declare_only_a_schools_roles() -> None:
    registration.check_role("school", "school_nurse")
    with pytest.raises(RoleNotAllowed) as refused:
        registration.check_role("school", "gp")
    assert str(refused.value) == "A school may register only as: " + ", ".join(
        label.lower() for _, label in registration.roles_for("school")
    )
    assert [value for value, _ in registration.roles_for("gp_practice")] == [
        "gp",
        "health_service",
    ]


def test_an_unknown_kind_of_organisation_has_no_role_at_all() -> None:
    assert registration.roles_for("bakery") == []
    with pytest.raises(RoleNotAllowed, match="your organisation may register only as: none"):
        registration.check_role("bakery", "school")


def school_client(actors: Actors) -> Actor:
    client, _ = create_client(
        Actor.of(actors.nadia),
        name="Parkside's MIS",
        organisation=actors.school_a,
        role=Role.PRACTITIONER,
    )
    return Actor(client_principal(client))


def test_a_user_answers_for_themselves_and_a_client_names_one_of_its_practitioners(
    actors: Actors,
) -> None:
    assert registration.person_for(Actor.of(actors.alice), "bob@school-a.example") == actors.alice
    client = school_client(actors)
    assert registration.person_for(client, " Bob@School-A.example ") == actors.bob
    with pytest.raises(Invalid, match="Name the practitioner"):
        registration.person_for(client, "  ")
    with pytest.raises(Refused, match="not a user of your organisation"):
        registration.person_for(client, actors.charlie.email)
    with pytest.raises(Refused, match="may not register"):
        registration.person_for(client, actors.petra.email)


def test_a_days_registrations_are_limited_per_person_and_per_organisation(
    actors: Actors, settings: Any
) -> None:
    settings.CONTACTPOINT_REGISTRATIONS_PER_USER = 2
    settings.CONTACTPOINT_REGISTRATIONS_PER_ORGANISATION = 3
    assert not registration.used_up(actors.alice)
    assert registration.take(actors.alice)
    assert registration.take(actors.alice)
    assert registration.used_up(actors.alice)
    assert not registration.take(actors.alice)
    # Bob, at the same school, has his own two, but the school had three in all.
    assert not registration.used_up(actors.bob)
    assert registration.take(actors.bob)
    assert registration.used_up(actors.bob)
    # Charlie's organisation is another: untouched.
    assert registration.take(actors.charlie)
