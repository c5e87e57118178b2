"""The calling client's account, and the users it may see and manage.

Every change goes through `contactpoint.access.users`, which asks the decider again with
the user as target, so the rules are the web pages' rules. A user the client may not see
is "not found", never "forbidden": the answer does not say who exists elsewhere.
"""

# No `from __future__ import annotations`: see contactpoint/api/oauth.py.

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpRequest
from ninja import Query, Router, Status

from contactpoint.access import users
from contactpoint.access.models import User
from contactpoint.access.permissions import Permission, Role, holds
from contactpoint.api.rules import actor_of, api_rule, client_of
from contactpoint.api.schemas import (
    Account,
    CreatedUser,
    Enablement,
    NewUser,
    PageQuery,
    Problem,
    RoleChange,
    UserOut,
    UserPage,
)
from contactpoint.registry.models import Organisation

router = Router(tags=["users"])

# The weakest users:read permission: a privacy officer holds it for their organisation and
# the index team through its area grant; `visible_users` narrows the list to match.
READ_USERS = Permission.ORGANISATION_USERS_READ
MANAGE_USERS = Permission.AREA_USERS_MANAGE
# 400: the body is not JSON at all; 422: it is, but not what the operation takes.
# 503: a refusal that cannot be written to the audit log (docs/audit.md).
REFUSALS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem, 503: Problem}


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        organisation_code=user.organisation.code,
        role=user.role_enum,
        enabled=user.enabled,
        suspensions=user.suspensions(),
    )


def visible_user(request: HttpRequest, user_id: str) -> User:
    """The user, if the client may see them; otherwise 404, as if they did not exist."""
    try:
        key = uuid.UUID(user_id)
    except ValueError as error:
        raise Http404 from error
    user = users.visible_users(actor_of(request)).filter(pk=key).first()
    if user is None:
        raise Http404
    return user


@router.get("/account", response={200: Account, 401: Problem, 403: Problem}, url_name="account")
@api_rule(Permission.SELF_ACCOUNT_READ)
def account(request: HttpRequest) -> Account:
    """The calling client: its organisation, role and the permissions the role holds."""
    client = client_of(request)
    role = Role(client.role)
    return Account(
        client_id=client.client_id,
        name=client.name,
        organisation_code=client.organisation.code,
        organisation_name=client.organisation.name,
        role=role,
        permissions=[p for p in Permission if holds(role, p)],
    )


@router.get("/users", response={200: UserPage, **REFUSALS}, url_name="users")
@api_rule(READ_USERS)
def list_users(request: HttpRequest, page: Query[PageQuery]) -> UserPage:
    """Users the client may see, by e-mail address, at most 100 a page."""
    found = users.visible_users(actor_of(request)).order_by("email")
    rows = found[page.offset : page.offset + page.limit]
    return UserPage(
        count=found.count(),
        limit=page.limit,
        offset=page.offset,
        items=[user_out(u) for u in rows],
    )


@router.post("/users", response={201: CreatedUser, **REFUSALS}, url_name="create_user")
@api_rule(MANAGE_USERS)
def create_user(request: HttpRequest, new: NewUser) -> Status[CreatedUser]:
    """Create a user, not yet enabled; the answer holds their first password, this once."""
    try:
        validate_email(new.email)
    except DjangoValidationError as error:
        raise users.Invalid("enter a valid e-mail address") from error
    organisation = Organisation.objects.filter(code=new.organisation_code).first()
    if organisation is None:
        raise users.Invalid("no organisation has that code")
    user, password = users.create_user(
        actor_of(request),
        email=new.email,
        name=new.name,
        organisation=organisation,
        role=new.role,
    )
    return Status(201, CreatedUser(user=user_out(user), first_password=password))


@router.get("/users/{user_id}", response={200: UserOut, **REFUSALS}, url_name="user")
@api_rule(READ_USERS)
def get_user(request: HttpRequest, user_id: str) -> UserOut:
    return user_out(visible_user(request, user_id))


@router.post("/users/{user_id}/enable", response={200: UserOut, **REFUSALS}, url_name="enable")
@api_rule(MANAGE_USERS)
def enable(request: HttpRequest, user_id: str, dates: Enablement) -> UserOut:
    """Record the vetting check and training, and let the user sign in."""
    user = visible_user(request, user_id)
    users.enable(
        actor_of(request),
        user,
        vetting_checked_on=dates.vetting_checked_on,
        training_completed_on=dates.training_completed_on,
    )
    return user_out(user)


@router.post(
    "/users/{user_id}/recertify", response={200: UserOut, **REFUSALS}, url_name="recertify"
)
@api_rule(MANAGE_USERS)
def recertify(request: HttpRequest, user_id: str) -> UserOut:
    """Confirm that the user still needs access (every four months)."""
    user = visible_user(request, user_id)
    users.recertify(actor_of(request), user)
    return user_out(user)


@router.post("/users/{user_id}/disable", response={200: UserOut, **REFUSALS}, url_name="disable")
@api_rule(MANAGE_USERS)
def disable(request: HttpRequest, user_id: str) -> UserOut:
    """Stop the user at once: every session they hold ends."""
    user = visible_user(request, user_id)
    users.disable(actor_of(request), user)
    return user_out(user)


@router.post("/users/{user_id}/role", response={200: UserOut, **REFUSALS}, url_name="role")
@api_rule(MANAGE_USERS)
def change_role(request: HttpRequest, user_id: str, change: RoleChange) -> UserOut:
    """Give the user another role; their sessions end."""
    user = visible_user(request, user_id)
    users.change_role(actor_of(request), user, change.role)
    return user_out(user)
