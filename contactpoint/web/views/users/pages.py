"""The user list, a user's page, and adding a user."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse, QueryDict
from django.views.decorators.http import require_GET, require_http_methods

from contactpoint.access.activation import LINK_HOURS
from contactpoint.access.models import ResetRequest, User
from contactpoint.access.permissions import Permission, Role, decide, may_stop, may_vouch_for
from contactpoint.access.standing import RECERTIFY_MONTHS, add_months
from contactpoint.access.users import (
    Actor,
    Invalid,
    Refused,
    create_user,
    user_target,
    visible_users,
)
from contactpoint.web.access import access_rule, refused, step_up
from contactpoint.web.pages import actor_of, page, sentence
from contactpoint.web.views.users.common import organisations_for, role_options, user_or_404
from contactpoint.web.views.users.forms import Reader

# The weakest of the users:read permissions: a privacy officer holds it for their
# organisation and the index team through its area grant. visible_users narrows the list.
READ_USERS = Permission.ORGANISATION_USERS_READ


@access_rule(READ_USERS)
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    today = dt.date.today()
    users = visible_users(actor).order_by("organisation__name", "name")
    manages = bool(decide(actor.principal, Permission.AREA_USERS_MANAGE))
    # Only those who can reset a password are shown who asked for one.
    resets = (
        ResetRequest.objects.filter(handled_at=None, user__in=users)
        .select_related("user")
        .order_by("requested_at")
        if manages
        else ResetRequest.objects.none()
    )
    context = {
        "rows": [(user, user.suspensions(today)) for user in users],
        "resets": resets,
        "manages": manages,
        # The header links only to /users, so the organisations page is linked from here.
        "organisations": bool(decide(actor.principal, Permission.AREA_ORGANISATIONS_READ)),
    }
    return page(request, "users/list.html", context)


@access_rule(READ_USERS)
@require_GET
def user_page(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    return render_user(request, actor, user_or_404(actor, user_id))


def render_user(
    request: HttpRequest,
    actor: Actor,
    user: User,
    errors: dict[str, str] | None = None,
    values: QueryDict | None = None,
) -> HttpResponse:
    """The user's page; with `errors`, as an action form left it (status 400)."""
    is_self = actor.principal.id == str(user.id)
    manage = decide(actor.principal, Permission.AREA_USERS_MANAGE, user_target(user))
    due = add_months(user.certified_on, RECERTIFY_MONTHS) if user.certified_on else None
    role = actor.principal.role
    # Buttons only for what the actor may do: stop a user at or below their own role;
    # vouch for (enable, recertify, reset, change the role of) one below it.
    stops = bool(manage) and not is_self and may_stop(role, user.role_enum)
    context: dict[str, Any] = {
        "user": user,
        "reasons": user.suspensions(),
        "is_self": is_self,
        "manage": stops,
        "vouch": stops and may_vouch_for(role, user.role_enum),
        "created_it": user.created_by_id is not None
        and str(user.created_by_id) == actor.principal.id,
        "role_options": role_options(actor),
        "recertify_due": due,
        "errors": errors or {},
        "values": values if values is not None else QueryDict(),
    }
    return page(request, "users/detail.html", context, status=400 if errors else 200)


@access_rule(Permission.AREA_USERS_MANAGE)
@step_up
@require_http_methods(["GET", "POST"])
def new_user(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if request.method != "POST":
        return _new_form(request, actor)
    form = Reader(request.POST)
    email = form.text("email", "Enter the user's e-mail address")
    if email and not _is_email(email):
        form.errors["email"] = (
            "Enter an e-mail address in the correct format, like name@example.org"
        )
    name = form.text("name", "Enter the user's full name")
    organisations = {o.code: o for o in organisations_for(actor, Permission.NATIONAL_USERS_MANAGE)}
    organisation = form.choice("organisation", organisations, "Select the user's organisation")
    # Every role is read here, so a role the actor may not give reaches the decider, which
    # refuses it; the form offers only the roles they may give.
    role = form.choice("role", {r.value: r for r in Role}, "Select the user's role")
    if form.errors or organisation is None or role is None:
        return _new_form(request, actor, form.errors)
    try:
        user = create_user(actor, email=email, name=name, organisation=organisation, role=role)
    except Refused as refusal:
        return refused(request, str(refusal), refusal.status)
    except Invalid as invalid:
        field = "email" if "e-mail" in str(invalid) else "name"
        return _new_form(request, actor, {field: sentence(str(invalid))})
    return page(request, "users/created.html", {"user": user, "link_hours": LINK_HOURS})


def _new_form(
    request: HttpRequest, actor: Actor, errors: dict[str, str] | None = None
) -> HttpResponse:
    organisations = organisations_for(actor, Permission.NATIONAL_USERS_MANAGE)
    context = {
        "organisations": [(o.code, o.name) for o in organisations],
        "role_options": role_options(actor),
        "errors": errors or {},
        "values": request.POST,
    }
    return page(request, "users/new.html", context, status=400 if errors else 200)


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True
