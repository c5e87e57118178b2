"""The attack a penetration test found ("one credential unshields a child", docs/security.md),
replayed step by step: every step is refused now.

1. An index-team API client creates index-team users, enables them with vetting dates it
   makes up, and reads each first password from the answer.
2. One index-team member makes a sock-puppet index-team member on the web and enables it.
3. A fresh account nobody else vouched for approves the index-team member's request to
   stop shielding a child.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from contactpoint.access.models import User
from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor, Refused
from contactpoint.practice import shielding
from contactpoint.registry import shield_tags
from contactpoint.registry.models import Child
from tests.support.actors import Actors, signed_in
from tests.support.api import Caller, machine
from tests.support.children import load_children

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

WHY = "Mother and child have fled a violent partner who is looking for them"
WHY_NOT = "The court order has ended and the family asks to be found by services"
TODAY = dt.date.today()


def test_an_index_team_client_cannot_mint_index_team_users(actors: Actors) -> None:
    client = Caller(machine(actors, actors.council_a, Role.INDEX_TEAM))
    for n in (1, 2):
        made = client.post(
            "/users",
            {
                "email": f"puppet{n}@council-a.example",
                "name": f"Puppet {n}",
                "organisation_code": actors.council_a.code,
                "role": "index_team",
            },
        )
        assert made.status_code == 403, made.content
        assert "first_password" not in made.json()
    assert not User.objects.filter(email__startswith="puppet").exists()
    # Nor vouch for an account someone else made, with dates it makes up.
    dates = {"vetting_checked_on": str(TODAY), "training_completed_on": str(TODAY)}
    assert client.post(f"/users/{actors.bob.id}/enable", dates).status_code == 403


def test_an_index_team_member_cannot_make_a_second_index_team_member_on_the_web(
    actors: Actors,
) -> None:
    ian = signed_in(actors.ian)
    form = {
        "email": "puppet@council-a.example",
        "name": "Pat Puppet",
        "organisation": actors.council_a.code,
        "role": "index_team",
    }
    assert ian.post("/users/new", form).status_code == 403
    assert not User.objects.filter(email="puppet@council-a.example").exists()
    promoted = ian.post(f"/users/{actors.bob.id}/role", {"role": "index_team"})
    assert promoted.status_code == 403
    assert User.objects.get(pk=actors.bob.pk).role == Role.PRACTITIONER.value


def test_a_fresh_account_nobody_else_vouched_for_cannot_approve_unshielding(
    actors: Actors, feeds: Path
) -> None:
    amelia = load_children(feeds)["amelia"]
    shield_tags.shield([amelia.pk])
    amelia.refresh_from_db()
    # An index-team account made and enabled today, with no third party recorded.
    puppet = User.objects.create(
        email="puppet@council-a.example",
        name="Pat Puppet",
        organisation=actors.council_a,
        role=Role.INDEX_TEAM.value,
        enabled=True,
        vetting_checked_on=TODAY,
        training_completed_on=TODAY,
        certified_on=TODAY,
        last_active_on=TODAY,
    )
    asked = shielding.request(Actor.of(actors.ian), amelia, "unshield", "risk_ended", WHY_NOT)
    with pytest.raises(Refused):
        shielding.approve(Actor.of(puppet), asked.pk)
    assert Child.objects.get(pk=amelia.pk).shielded
