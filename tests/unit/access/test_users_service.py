"""The services every interface calls: checks that hold whichever way a change arrives."""

from __future__ import annotations

import datetime as dt

import pytest

from contactpoint.access.models import User
from contactpoint.access.permissions import Role
from contactpoint.access.users import (
    Actor,
    Invalid,
    Refused,
    accredit,
    change_role,
    create_user,
    disable,
    enable,
)
from tests.support.actors import Actors

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def test_a_malformed_email_or_a_duplicate_is_refused_with_a_reason(actors: Actors) -> None:
    ian = Actor.of(actors.ian)
    with pytest.raises(Invalid, match="e-mail address"):
        create_user(
            ian,
            email="not an address",
            name="X",
            organisation=actors.school_a,
            role=Role.PRACTITIONER,
        )
    with pytest.raises(Invalid, match="already exists"):
        create_user(
            ian,
            email=actors.bob.email.upper(),
            name="X",
            organisation=actors.school_a,
            role=Role.PRACTITIONER,
        )


def test_a_new_user_cannot_sign_in_until_enabled_by_someone_else(actors: Actors) -> None:
    ian = Actor.of(actors.ian)
    user = create_user(
        ian,
        email="Dana@School-A.example",
        name="Dana",
        organisation=actors.school_a,
        role=Role.PRACTITIONER,
    )
    assert user.email == "dana@school-a.example" and not user.has_usable_password()
    assert user.created_by == actors.ian
    assert "not enabled by an authoriser" in user.suspensions()
    day = dt.date.today() - dt.timedelta(days=1)
    nadia = Actor.of(actors.nadia)
    with pytest.raises(Invalid, match="future"):
        enable(
            nadia, user, vetting_checked_on=day + dt.timedelta(days=2), training_completed_on=day
        )
    with pytest.raises(Refused, match="someone other than the person who created"):
        enable(ian, user, vetting_checked_on=day, training_completed_on=day)
    enable(nadia, user, vetting_checked_on=day, training_completed_on=day)
    enabled = User.objects.get(pk=user.pk)
    assert enabled.suspensions() == [] and enabled.enabled_by == actors.nadia
    with pytest.raises(Refused, match="another authoriser"):
        enable(ian, actors.ian, vetting_checked_on=day, training_completed_on=day)


def test_disabling_or_changing_a_role_ends_every_session(actors: Actors) -> None:
    nadia = Actor.of(actors.nadia)
    epoch = actors.bob.session_epoch
    hash_before = actors.bob.get_session_auth_hash()
    change_role(nadia, actors.bob, Role.PRIVACY_OFFICER)
    assert actors.bob.session_epoch == epoch + 1
    assert actors.bob.get_session_auth_hash() != hash_before
    disable(nadia, actors.bob)
    assert User.objects.get(pk=actors.bob.pk).session_epoch == epoch + 2


def test_only_the_national_team_grants_accreditation(actors: Actors) -> None:
    later = dt.date.today() + dt.timedelta(days=100)
    with pytest.raises(Refused):
        accredit(Actor.of(actors.ian), actors.council_a, expires_on=later)
    accredit(Actor.of(actors.ian), actors.council_a, expires_on=later, withdrawn=True)
    assert "organisation not accredited" in User.objects.get(pk=actors.ian.pk).suspensions()
    accredit(Actor.of(actors.nadia), actors.council_a, expires_on=later)
    # School A has a privacy officer, whom the index team may not stop: the national team may.
    with pytest.raises(Refused, match="privacy officer"):
        accredit(Actor.of(actors.ian), actors.school_a, expires_on=later, withdrawn=True)
    accredit(Actor.of(actors.nadia), actors.school_a, expires_on=later, withdrawn=True)
    assert "organisation not accredited" in User.objects.get(pk=actors.alice.pk).suspensions()
    accredit(Actor.of(actors.nadia), actors.school_a, expires_on=later)
    assert User.objects.get(pk=actors.alice.pk).suspensions() == []
