"""The decider, with no database: roles, scopes, relationships, suspension, second factor."""

from __future__ import annotations

import pytest

from contactpoint.access.permissions import (
    ASSIGNABLE,
    GRANTS,
    Permission,
    Principal,
    Role,
    Target,
    decide,
    holds,
    may_stop,
    may_vouch_for,
)

AREA_A, AREA_B = "E09000007", "E09000012"


def principal(role: Role, *, active: bool = True, second_factor: bool = True) -> Principal:
    return Principal(
        kind="user",
        id="u1",
        role=role,
        organisation_id=1,
        area_code=AREA_A,
        active=active,
        second_factor=second_factor,
    )


def test_every_permission_is_named_scope_resource_action() -> None:
    for permission in Permission:
        scope, resource, action = permission.value.split(":")
        assert scope in {"self", "organisation", "area", "national", "child"}
        assert resource and action


def test_every_role_holds_its_own_account() -> None:
    for role in Role:
        assert GRANTS[role] >= {Permission.SELF_ACCOUNT_READ, Permission.SELF_ACCOUNT_UPDATE}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("relationship", [True, False])
def test_a_childs_contacts_need_a_relationship(role: Role, relationship: bool) -> None:
    decision = decide(
        principal(role), Permission.CHILD_CONTACTS_READ, Target(relationship=relationship)
    )
    may = role in (Role.PRACTITIONER, Role.INDEX_TEAM) and relationship
    assert bool(decision) is may


@pytest.mark.parametrize("permission", list(Permission))
def test_a_suspended_user_or_one_without_a_second_factor_may_do_nothing(
    permission: Permission,
) -> None:
    for p in (
        principal(Role.NATIONAL_ADMIN, active=False),
        principal(Role.NATIONAL_ADMIN, second_factor=False),
    ):
        assert not decide(p, permission)
        assert not decide(p, permission, Target(relationship=True, area_code=AREA_A))


def test_the_index_team_manages_its_own_area_only() -> None:
    ian = principal(Role.INDEX_TEAM)
    assert decide(ian, Permission.AREA_USERS_MANAGE, Target(area_code=AREA_A))
    refusal = decide(ian, Permission.AREA_USERS_MANAGE, Target(area_code=AREA_B))
    assert not refusal and refusal.reason == "another council area"
    assert not decide(ian, Permission.AREA_USERS_MANAGE, Target(area_code=None))


def test_the_national_administrator_acts_in_every_area() -> None:
    nadia = principal(Role.NATIONAL_ADMIN)
    for area in (AREA_A, AREA_B, None):
        assert decide(nadia, Permission.AREA_USERS_MANAGE, Target(area_code=area))
        assert decide(nadia, Permission.ORGANISATION_USERS_READ, Target(organisation_id=99))


def test_a_privacy_officer_reads_their_own_organisations_users_only() -> None:
    petra = principal(Role.PRIVACY_OFFICER)
    assert decide(petra, Permission.ORGANISATION_USERS_READ, Target(organisation_id=1))
    assert not decide(petra, Permission.ORGANISATION_USERS_READ, Target(organisation_id=2))
    assert not decide(petra, Permission.AREA_USERS_READ)
    assert not decide(petra, Permission.AREA_USERS_MANAGE, Target(area_code=AREA_A))


def test_no_role_gives_a_role_it_may_not() -> None:
    ian = principal(Role.INDEX_TEAM)
    target = Target(area_code=AREA_A, role=Role.NATIONAL_ADMIN)
    assert not decide(ian, Permission.AREA_USERS_MANAGE, target)
    assert Role.NATIONAL_ADMIN not in ASSIGNABLE[Role.INDEX_TEAM]
    # Nobody gives a role at or above their own: a national administrator is made only at
    # the server (`users bootstrap`).
    assert not decide(principal(Role.NATIONAL_ADMIN), Permission.AREA_USERS_MANAGE, target)
    index_team = Target(area_code=AREA_A, role=Role.INDEX_TEAM)
    assert decide(principal(Role.NATIONAL_ADMIN), Permission.AREA_USERS_MANAGE, index_team)


def test_roles_give_and_vouch_only_below_their_own_and_stop_no_one_above() -> None:
    assert ASSIGNABLE[Role.INDEX_TEAM] == {Role.PRACTITIONER}
    assert ASSIGNABLE[Role.NATIONAL_ADMIN] == {
        Role.PRACTITIONER,
        Role.INDEX_TEAM,
        Role.PRIVACY_OFFICER,
    }
    assert ASSIGNABLE[Role.PRIVACY_OFFICER] == ASSIGNABLE[Role.PRACTITIONER] == frozenset()
    for actor in Role:
        assert actor not in ASSIGNABLE[actor]
        assert not may_vouch_for(actor, actor)
    assert may_stop(Role.INDEX_TEAM, Role.INDEX_TEAM)  # a colleague who leaves
    assert not may_stop(Role.INDEX_TEAM, Role.PRIVACY_OFFICER)
    assert not may_vouch_for(Role.INDEX_TEAM, Role.PRIVACY_OFFICER)
    assert may_vouch_for(Role.NATIONAL_ADMIN, Role.PRIVACY_OFFICER)


def test_self_scope_is_the_principals_own_account_only() -> None:
    alice = principal(Role.PRACTITIONER)
    assert decide(alice, Permission.SELF_ACCOUNT_UPDATE, Target(user_id="u1"))
    assert not decide(alice, Permission.SELF_ACCOUNT_UPDATE, Target(user_id="u2"))


def test_a_practitioner_holds_no_management_permission() -> None:
    for permission in Permission:
        if permission.scope in ("area", "national", "organisation"):
            assert not holds(Role.PRACTITIONER, permission)
