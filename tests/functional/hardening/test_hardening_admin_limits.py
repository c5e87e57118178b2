"""Administrative changes (users, API clients, organisations) are limited per principal,
on the pages and the API alike; a refused change is audited and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from contactpoint.access.permissions import Role
from contactpoint.audit.models import Event
from tests.support.actors import Actors, signed_in
from tests.support.api import Caller, machine

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

LIMITED = "the most allowed"


def test_an_index_team_member_on_the_pages_is_stopped_after_the_hours_changes(
    actors: Actors, settings: Any
) -> None:
    settings.CONTACTPOINT_ADMIN_CHANGES_PER_HOUR = 3
    ian = signed_in(actors.ian)
    answers = [ian.post(f"/users/{actors.bob.id}/recertify") for _ in range(4)]
    assert [a.status_code for a in answers] == [302, 302, 302, 429]
    assert LIMITED in answers[-1].content.decode()
    assert Event.objects.filter(action="access:user:recertify").count() == 3
    refused = Event.objects.get(outcome="refused")
    assert refused.principal == f"user:{actors.ian.pk}"
    # Another administrator is not held by Ian's count.
    isla = signed_in(actors.isla)
    assert isla.post(f"/users/{actors.charlie.id}/recertify").status_code == 302


def test_an_api_client_is_stopped_after_the_days_changes(actors: Actors, settings: Any) -> None:
    settings.CONTACTPOINT_ADMIN_CHANGES_PER_DAY = 2
    index_a = Caller(machine(actors, actors.council_a, Role.INDEX_TEAM))
    answers = [index_a.post(f"/users/{user.id}/disable") for user in (actors.alice, actors.bob)]
    assert [a.status_code for a in answers] == [200, 200]
    stopped = index_a.post(f"/users/{actors.alice.id}/disable")
    assert stopped.status_code == 429 and LIMITED in stopped.json()["detail"]
    assert Event.objects.filter(action="access:user:disable").count() == 2
    refused = Event.objects.get(outcome="refused")
    assert refused.principal == f"client:{index_a.machine.id}"
