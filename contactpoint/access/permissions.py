"""The permissions vocabulary (`scope:resource:action`) and the one place that decides.

Every page and API operation names one `Permission`; `decide` alone says whether a
principal holds it for a target. Nothing else in the code compares roles.

Scopes:
  self          the principal's own account (target user must be the principal)
  organisation  things of the principal's own organisation
  area          things of the principal's council area
  national      anything, anywhere
  child         a child's contacts: needs a relationship (an active involvement of the
                principal's organisation with the child)

A role granted `national:R:A` holds `area:R:A` and `organisation:R:A` everywhere.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    PRACTITIONER = "practitioner"
    INDEX_TEAM = "index_team"
    PRIVACY_OFFICER = "privacy_officer"
    NATIONAL_ADMIN = "national_admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.PRACTITIONER: "Practitioner",
    Role.INDEX_TEAM: "Local index team",
    Role.PRIVACY_OFFICER: "Privacy officer",
    Role.NATIONAL_ADMIN: "National administrator",
}


class Permission(enum.StrEnum):
    SELF_ACCOUNT_READ = "self:account:read"
    SELF_ACCOUNT_UPDATE = "self:account:update"
    SELF_SECOND_FACTOR_MANAGE = "self:second-factor:manage"
    ORGANISATION_USERS_READ = "organisation:users:read"
    AREA_USERS_READ = "area:users:read"
    AREA_USERS_MANAGE = "area:users:manage"
    AREA_ORGANISATIONS_READ = "area:organisations:read"
    AREA_ORGANISATIONS_MANAGE = "area:organisations:manage"
    NATIONAL_USERS_READ = "national:users:read"
    NATIONAL_USERS_MANAGE = "national:users:manage"
    NATIONAL_ORGANISATIONS_READ = "national:organisations:read"
    NATIONAL_ORGANISATIONS_MANAGE = "national:organisations:manage"
    NATIONAL_CLIENTS_MANAGE = "national:clients:manage"
    CHILD_CONTACTS_READ = "child:contacts:read"
    # The practitioner journey (contactpoint.search, contactpoint.practice).
    SELF_ALERTS_READ = "self:alerts:read"
    CHILD_RECORDS_SEARCH = "child:records:search"
    CHILD_RECORD_READ = "child:record:read"
    CHILD_INVOLVEMENT_REGISTER = "child:involvement:register"
    CHILD_INVOLVEMENT_MANAGE = "child:involvement:manage"
    CHILD_EMERGENCY_ACCESS = "child:emergency-access:use"
    AREA_SHIELDED_CHILDREN_READ = "area:shielded-children:read"
    ORGANISATION_EMERGENCY_ACCESS_REVIEW = "organisation:emergency-access:review"
    # Oversight (docs/oversight.md): misuse alerts, access histories and suspension are the privacy
    # officer's, for their own organisation; shielding is decided by two of the local index
    # team of the child's area.
    ORGANISATION_MISUSE_ALERTS_REVIEW = "organisation:misuse-alerts:review"
    ORGANISATION_ACCESS_HISTORY_READ = "organisation:access-history:read"
    ORGANISATION_USERS_SUSPEND = "organisation:users:suspend"
    AREA_SHIELDING_DECIDE = "area:shielding:decide"
    # Retention and families' rights (docs/retention.md, docs/families.md): the local
    # index team of the child's area reads archived records, records extensions to 25,
    # takes subject-access requests, tracks rectification and sends family notices.
    AREA_ARCHIVED_CHILDREN_READ = "area:archived-children:read"
    AREA_RETENTION_MANAGE = "area:retention:manage"
    AREA_SUBJECT_ACCESS_MANAGE = "area:subject-access:manage"
    AREA_RECTIFICATION_MANAGE = "area:rectification:manage"
    AREA_FAMILY_NOTICES_MANAGE = "area:family-notices:manage"
    # Linkage review (docs/review.md, "On the web"): the local index team of the area a
    # review item concerns reads it and decides it.
    AREA_LINKAGE_REVIEW_DECIDE = "area:linkage-review:decide"

    @property
    def scope(self) -> str:
        return self.value.split(":")[0]

    @property
    def resource(self) -> str:
        return self.value.split(":")[1]

    @property
    def action(self) -> str:
        return self.value.split(":")[2]


_SELF = {
    Permission.SELF_ACCOUNT_READ,
    Permission.SELF_ACCOUNT_UPDATE,
    Permission.SELF_SECOND_FACTOR_MANAGE,
    Permission.SELF_ALERTS_READ,
}
# Finding a child and working with them. Searching and reading a record's identity need
# no relationship; contacts and changing an involvement need one (scope `child`).
_CHILDREN = {
    Permission.CHILD_RECORDS_SEARCH,
    Permission.CHILD_RECORD_READ,
    Permission.CHILD_CONTACTS_READ,
    Permission.CHILD_INVOLVEMENT_REGISTER,
    Permission.CHILD_INVOLVEMENT_MANAGE,
    Permission.CHILD_EMERGENCY_ACCESS,
}

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.PRACTITIONER: frozenset(_SELF | _CHILDREN),
    Role.INDEX_TEAM: frozenset(
        _SELF
        | {
            Permission.AREA_USERS_READ,
            Permission.AREA_USERS_MANAGE,
            Permission.AREA_ORGANISATIONS_READ,
            Permission.AREA_ORGANISATIONS_MANAGE,
            # The local index team alone sees a shielded child of its area in full.
            Permission.AREA_SHIELDED_CHILDREN_READ,
            Permission.AREA_SHIELDING_DECIDE,
            Permission.AREA_ARCHIVED_CHILDREN_READ,
            Permission.AREA_RETENTION_MANAGE,
            Permission.AREA_SUBJECT_ACCESS_MANAGE,
            Permission.AREA_RECTIFICATION_MANAGE,
            Permission.AREA_FAMILY_NOTICES_MANAGE,
            Permission.AREA_LINKAGE_REVIEW_DECIDE,
        }
        | _CHILDREN
    ),
    # A privacy officer watches their own organisation's users: reviews their emergency
    # access and misuse alerts, reads their access history (and a child's, as far as their
    # organisation's users are concerned) and suspends a user while a case is looked into.
    Role.PRIVACY_OFFICER: frozenset(
        _SELF
        | {
            Permission.ORGANISATION_USERS_READ,
            Permission.ORGANISATION_EMERGENCY_ACCESS_REVIEW,
            Permission.ORGANISATION_MISUSE_ALERTS_REVIEW,
            Permission.ORGANISATION_ACCESS_HISTORY_READ,
            Permission.ORGANISATION_USERS_SUSPEND,
        }
    ),
    Role.NATIONAL_ADMIN: frozenset(
        _SELF
        | {
            Permission.NATIONAL_USERS_READ,
            Permission.NATIONAL_USERS_MANAGE,
            Permission.NATIONAL_ORGANISATIONS_READ,
            Permission.NATIONAL_ORGANISATIONS_MANAGE,
            Permission.NATIONAL_CLIENTS_MANAGE,
        }
    ),
}

# The order of roles, lowest first: each oversees those below it. Practitioners work with
# children; the local index team manages its area's practitioners; privacy officers watch
# the index team (they are told of its shielding decisions, and it cannot stop them); the
# national team stands above all. Nobody gives, or vouches for, a role at or above their
# own (docs/users.md): an index team member cannot make a second index team member.
RANK: dict[Role, int] = {
    Role.PRACTITIONER: 0,
    Role.INDEX_TEAM: 1,
    Role.PRIVACY_OFFICER: 2,
    Role.NATIONAL_ADMIN: 3,
}

# Which roles each role may give: those below its own. A national administrator is made
# only at the server (`contactpoint users bootstrap`), never through the service.
ASSIGNABLE: dict[Role, frozenset[Role]] = {
    role: frozenset(r for r in Role if RANK[r] < RANK[role])
    if role
    in (
        Role.INDEX_TEAM,
        Role.NATIONAL_ADMIN,
    )
    else frozenset()
    for role in Role
}


def may_vouch_for(actor: Role, holder: Role) -> bool:
    """Whether `actor` may create, enable, recertify, reset or change the role of a user
    who holds `holder`: only a role below the actor's own."""
    return RANK[holder] < RANK[actor]


def may_stop(actor: Role, holder: Role) -> bool:
    """Whether `actor` may disable a user who holds `holder`: a colleague of the same rank
    (one who leaves), but never someone above, so the index team cannot stop the privacy
    officers who oversee it."""
    return RANK[holder] <= RANK[actor]


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in user or a machine client, as the decider sees them."""

    kind: str  # "user" or "client"
    id: str
    role: Role
    organisation_id: int
    area_code: str | None
    active: bool = True  # not suspended (see contactpoint.access.standing)
    second_factor: bool = True  # a user proved a second factor in this session

    @property
    def key(self) -> str:
        """The principal as quotas, findings and audit events name it: user:<id> or client:<id>."""
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class Target:
    """What is asked about. Fields left None are not part of the question."""

    user_id: str | None = None
    organisation_id: int | None = None
    area_code: str | None = None
    role: Role | None = None  # the role a user would hold (creating, changing a role)
    relationship: bool = False  # the principal's organisation is involved with the child


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True, "allowed")


def _national(permission: Permission) -> str:
    return f"national:{permission.resource}:{permission.action}"


def holds(role: Role, permission: Permission) -> bool:
    """Whether a role holds a permission somewhere (the coarse check a page makes first)."""
    grants = {p.value for p in GRANTS[role]}
    if permission.value in grants:
        return True
    if permission.scope in ("area", "organisation"):
        if _national(permission) in grants:
            return True
        if permission.scope == "organisation":
            return f"area:{permission.resource}:{permission.action}" in grants
    return False


def decide(principal: Principal, permission: Permission, target: Target | None = None) -> Decision:
    """Say whether `principal` may use `permission` on `target` (None: anywhere at all).

    Refuses a suspended principal and a user without a second factor before anything else.
    """
    if not principal.active:
        return Decision(False, "access is suspended")
    if not principal.second_factor:
        return Decision(False, "a second factor is needed")
    if not holds(principal.role, permission):
        return Decision(False, f"the {principal.role.label.lower()} role does not have it")
    if target is None:
        return ALLOW
    if target.role is not None and target.role not in ASSIGNABLE[principal.role]:
        return Decision(False, "this role cannot give that role")
    if _national(permission) in {p.value for p in GRANTS[principal.role]}:
        return ALLOW
    return _in_scope(principal, permission, target)


def _in_scope(principal: Principal, permission: Permission, target: Target) -> Decision:
    scope = permission.scope
    if scope == "self":
        same = target.user_id is None or target.user_id == principal.id
        return ALLOW if same else Decision(False, "only for your own account")
    if scope == "child":
        return ALLOW if target.relationship else Decision(False, "no involvement with the child")
    if scope == "organisation" and permission.value in {p.value for p in GRANTS[principal.role]}:
        same = target.organisation_id in (None, principal.organisation_id)
        return ALLOW if same else Decision(False, "another organisation")
    # area scope, or an organisation permission held through an area grant
    if principal.area_code is None:
        return Decision(False, "no council area")
    same = target.area_code is not None and target.area_code == principal.area_code
    return ALLOW if same else Decision(False, "another council area")
