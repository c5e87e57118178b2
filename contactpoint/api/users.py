"""The calling client's account, and the users it may see and disable.

A machine client reads users and may disable one (a leaver), through
`contactpoint.access.users`, which asks the decider again with the user as target, so the
rules are the web pages' rules. It never creates, enables, recertifies or changes the role
of a person: those operations answer 403, audited. A user the client may not see
is "not found", never "forbidden": the answer does not say who exists elsewhere.
"""

# No `from __future__ import annotations`: see contactpoint/api/oauth.py.

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Query, Router

from contactpoint.access import users
from contactpoint.access.clients import client_principal
from contactpoint.access.models import User
from contactpoint.access.permissions import Permission, Role, holds
from contactpoint.api.rules import actor_of, api_rule, client_of, refusal
from contactpoint.api.schemas import Account, PageQuery, Problem, UserOut, UserPage
from contactpoint.audit.log import audit_refusal

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


@router.get("/users/{user_id}", response={200: UserOut, **REFUSALS}, url_name="user")
@api_rule(READ_USERS)
def get_user(request: HttpRequest, user_id: str) -> UserOut:
    return user_out(visible_user(request, user_id))


@router.post(
    "/users/{user_id}/disable",
    response={200: UserOut, **REFUSALS, 429: Problem},
    url_name="disable",
)
@api_rule(MANAGE_USERS)
def disable(request: HttpRequest, user_id: str) -> UserOut:
    """Stop the user at once: every session they hold ends."""
    user = visible_user(request, user_id)
    users.disable(actor_of(request), user)
    return user_out(user)


# A machine client never vouches for a person (docs/api.md): these operations stay in the
# document so that a client calling them is told why, and each call is audited as refused.
REFUSED_ONLY = {400: Problem, 401: Problem, 403: Problem, 422: Problem, 503: Problem}


def _people_only(request: HttpRequest, change: str) -> HttpResponse:
    """403, audited under the operations' rule like the rule's own refusals."""
    reason = users.machine_client_refusal(change)
    audit_refusal(client_principal(client_of(request)), MANAGE_USERS.value, reason)
    return refusal(reason)


@router.post("/users", response=REFUSED_ONLY, url_name="create_user", deprecated=True)
@api_rule(MANAGE_USERS)
def create_user(request: HttpRequest) -> HttpResponse:
    """Refused to every client: a person creates users, on the web pages or the command
    line, and the user sets their own password through a link sent to their e-mail."""
    return _people_only(request, "create")


@router.post("/users/{user_id}/enable", response=REFUSED_ONLY, url_name="enable", deprecated=True)
@api_rule(MANAGE_USERS)
def enable(request: HttpRequest, user_id: str) -> HttpResponse:
    """Refused to every client: a person other than the user's creator enables them."""
    return _people_only(request, "enable")


@router.post(
    "/users/{user_id}/recertify", response=REFUSED_ONLY, url_name="recertify", deprecated=True
)
@api_rule(MANAGE_USERS)
def recertify(request: HttpRequest, user_id: str) -> HttpResponse:
    """Refused to every client: a person confirms that a user still needs access."""
    return _people_only(request, "recertify")


@router.post("/users/{user_id}/role", response=REFUSED_ONLY, url_name="role", deprecated=True)
@api_rule(MANAGE_USERS)
def change_role(request: HttpRequest, user_id: str) -> HttpResponse:
    """Refused to every client: a person changes a user's role."""
    return _people_only(request, "change the role of")
