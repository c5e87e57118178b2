"""Who may vouch for whom (docs/users.md): no machine client vouches for a person, nobody
gives or manages a role at or above their own, an account is enabled by someone other than
its creator, the index team cannot stop its privacy officers, and a new account (or a
reset) sets its own password through a one-time link e-mailed to the user.

Ian is area A's index team, Petra a privacy officer at school A (area A), Bob a
practitioner at school A, Nadia a national administrator.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from contactpoint.access import activation
from contactpoint.access.clients import client_principal, create_client
from contactpoint.access.models import Activation, User
from contactpoint.access.permissions import Role
from contactpoint.access.users import (
    Actor,
    Refused,
    change_role,
    create_user,
    disable,
    enable,
    recertify,
    reset_password,
)
from contactpoint.audit.models import Event
from tests.support.actors import PASSWORD, Actors, signed_in

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

DAY = dt.date.today() - dt.timedelta(days=3)
NEW = "a brand new long passphrase"
LINK = re.compile(r"http://\S+/activate/(\S+)")


def link_in(message: mail.EmailMessage) -> str:
    found = LINK.search(str(message.body))
    assert found is not None
    return found.group(1)


def client_actor(actors: Actors, role: Role = Role.INDEX_TEAM) -> Actor:
    client, _ = create_client(
        Actor.of(actors.nadia), name="Case system", organisation=actors.council_a, role=role
    )
    return Actor(client_principal(client))


def refusals() -> int:
    return Event.objects.filter(outcome=Event.Outcome.REFUSED).count()


# Machine clients -----------------------------------------------------------------------


def test_a_machine_client_never_creates_enables_recertifies_promotes_or_resets_a_person(
    actors: Actors,
) -> None:
    machine = client_actor(actors)
    changes: list[Callable[[], object]] = [
        lambda: create_user(
            machine,
            email="sock@school-a.example",
            name="Sock Puppet",
            organisation=actors.school_a,
            role=Role.PRACTITIONER,
        ),
        lambda: enable(machine, actors.bob, vetting_checked_on=DAY, training_completed_on=DAY),
        lambda: recertify(machine, actors.bob),
        lambda: change_role(machine, actors.bob, Role.PRACTITIONER),
        lambda: reset_password(machine, actors.bob),
    ]
    for change in changes:
        with pytest.raises(Refused, match="a machine client cannot"):
            change()
    assert not User.objects.filter(email="sock@school-a.example").exists()
    assert not Activation.objects.exists() and mail.outbox == []


# The order of roles --------------------------------------------------------------------


def test_the_index_team_cannot_make_or_promote_another_index_team_member(
    actors: Actors,
) -> None:
    ian = Actor.of(actors.ian)
    for role in (Role.INDEX_TEAM, Role.PRIVACY_OFFICER, Role.NATIONAL_ADMIN):
        with pytest.raises(Refused, match="cannot give that role"):
            create_user(
                ian,
                email=f"{role.value}@council-a.example",
                name="Peer",
                organisation=actors.council_a,
                role=role,
            )
        with pytest.raises(Refused, match="cannot give that role"):
            change_role(ian, actors.bob, role)
    assert User.objects.get(pk=actors.bob.pk).role == Role.PRACTITIONER.value


def test_a_national_administrator_makes_an_index_team_member_and_another_person_enables_them(
    actors: Actors,
) -> None:
    nadia = Actor.of(actors.nadia)
    made = create_user(
        nadia,
        email="ivy@council-a.example",
        name="Ivy Index",
        organisation=actors.council_a,
        role=Role.INDEX_TEAM,
    )
    with pytest.raises(Refused, match="someone other than the person who created"):
        enable(nadia, made, vetting_checked_on=DAY, training_completed_on=DAY)
    # The index team cannot vouch for its own rank, nor a national administrator for theirs.
    with pytest.raises(Refused, match="cannot enable a local index team"):
        enable(Actor.of(actors.ian), made, vetting_checked_on=DAY, training_completed_on=DAY)
    assert not User.objects.get(pk=made.pk).enabled


def test_the_index_team_cannot_disable_demote_reset_or_suspend_its_privacy_officers(
    actors: Actors,
) -> None:
    ian = Actor.of(actors.ian)
    before = refusals()
    attempts: list[Callable[[], object]] = [
        lambda: disable(ian, actors.petra),
        lambda: change_role(ian, actors.petra, Role.PRACTITIONER),
        lambda: reset_password(ian, actors.petra),
        lambda: recertify(ian, actors.petra),
    ]
    for attempt in attempts:
        with pytest.raises(Refused, match="privacy officer"):
            attempt()
    petra = User.objects.get(pk=actors.petra.pk)
    assert petra.enabled and petra.role == Role.PRIVACY_OFFICER.value
    assert petra.has_usable_password() and petra.suspensions() == []
    # A colleague of the same rank (one who leaves) may be stopped.
    disable(ian, actors.bob)
    assert refusals() == before  # the services refuse; each interface audits (below)


def test_a_refused_change_on_the_pages_is_audited(actors: Actors) -> None:
    before = refusals()
    response = signed_in(actors.ian).post(f"/users/{actors.petra.pk}/disable")
    assert response.status_code == 403
    assert "privacy officer" in response.content.decode()
    assert User.objects.get(pk=actors.petra.pk).enabled
    assert refusals() == before + 1


# Activation by a one-time link ---------------------------------------------------------


def test_a_new_user_sets_their_own_password_through_a_link_that_works_once(
    actors: Actors,
) -> None:
    ian = signed_in(actors.ian)
    response = ian.post(
        "/users/new",
        {
            "email": "nina@school-a.example",
            "name": "Nina New",
            "organisation": actors.school_a.code,
            "role": "practitioner",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    nina = User.objects.get(email="nina@school-a.example")
    assert not nina.has_usable_password() and "first-password" not in page
    assert "link-sent" in page
    (message,) = mail.outbox
    assert message.to == ["nina@school-a.example"]
    token = link_in(message)
    assert not Activation.objects.filter(digest=token).exists()  # only its digest is kept
    assert Activation.objects.filter(digest=activation.digest(token)).exists()
    visitor = Client()
    assert visitor.get(f"/activate/{token}").status_code == 200
    weak = visitor.post(f"/activate/{token}", {"new_password": "x", "confirm_password": "x"})
    assert weak.status_code == 400  # a weak password uses nothing up
    done = visitor.post(f"/activate/{token}", {"new_password": NEW, "confirm_password": NEW})
    assert done.status_code == 302 and done["Location"].startswith("/sign-in")
    assert User.objects.get(pk=nina.pk).check_password(NEW)
    again = visitor.post(f"/activate/{token}", {"new_password": NEW, "confirm_password": NEW})
    assert again.status_code == 404
    assert visitor.get("/activate/not-a-real-token").status_code == 404


def test_a_link_expires(actors: Actors) -> None:
    made = create_user(
        Actor.of(actors.ian),
        email="late@school-a.example",
        name="Late Larry",
        organisation=actors.school_a,
        role=Role.PRACTITIONER,
    )
    token = link_in(mail.outbox[0])
    gone = timezone.now() - dt.timedelta(minutes=1)
    Activation.objects.filter(user=made).update(expires_at=gone)
    with pytest.raises(activation.LinkRefused):
        activation.set_password(token, NEW)
    assert not User.objects.get(pk=made.pk).has_usable_password()


def test_a_reset_goes_by_link_and_stops_the_old_password(actors: Actors) -> None:
    ian = signed_in(actors.ian)
    response = ian.post(f"/users/{actors.bob.pk}/reset-password")
    assert response.status_code == 200 and "link-sent" in response.content.decode()
    bob = User.objects.get(pk=actors.bob.pk)
    assert not bob.check_password(PASSWORD) and not bob.totp_devices.exists()
    (message,) = mail.outbox
    assert message.to == [bob.email]
    activation.set_password(link_in(message), NEW)
    assert User.objects.get(pk=bob.pk).check_password(NEW)
