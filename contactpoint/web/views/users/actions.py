"""What the index team does to a user: each a POST that asks for the second factor again.

Each action redirects back to the user's page with a success banner, or shows the page
again with the message at the field. A user outside the actor's reach is not found (404);
a change the decider refuses for a user they can see shows the refusal page (403).

A GET of an action's address (where the step-up page sends the user back) goes to the
user's page, where they press the button again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods

from contactpoint.access import users as service
from contactpoint.access.activation import LINK_HOURS
from contactpoint.access.models import User
from contactpoint.access.permissions import Permission, Role
from contactpoint.access.standing import RECERTIFY_MONTHS, add_months
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.web.access import access_rule, refused, step_up
from contactpoint.web.pages import actor_of, long_date, notify, page, sentence
from contactpoint.web.views.users.common import user_or_404
from contactpoint.web.views.users.forms import Reader, When
from contactpoint.web.views.users.pages import render_user

Action = Callable[[HttpRequest, Actor, User], HttpResponse]


def user_action(action: Action) -> Callable[[HttpRequest, uuid.UUID], HttpResponse]:
    """Declare the rule and step-up of a user action, and find the user (or 404)."""

    @access_rule(Permission.AREA_USERS_MANAGE)
    @step_up
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
        actor = actor_of(request)
        user = user_or_404(actor, user_id)
        if request.method != "POST":
            return HttpResponseRedirect(f"/users/{user.id}")
        return action(request, actor, user)

    view.__name__ = view.__qualname__ = action.__name__
    view.__doc__ = action.__doc__
    return view


def _apply(
    request: HttpRequest, actor: Actor, user: User, change: Callable[[], Any], field: str
) -> HttpResponse | None:
    """Make the change (the service opens its transaction); None when it is made, else the
    response."""
    try:
        change()
    except Refused as refusal:
        return refused(request, str(refusal), refusal.status)
    except Invalid as invalid:
        return render_user(request, actor, user, {field: sentence(str(invalid))}, request.POST)
    return None


def _done(request: HttpRequest, user: User, message: str) -> HttpResponse:
    notify(request, message)
    return HttpResponseRedirect(f"/users/{user.id}")


@user_action
def enable_user(request: HttpRequest, actor: Actor, user: User) -> HttpResponse:
    """Record the vetting check and training, and let the user sign in."""
    form = Reader(request.POST)
    vetting = form.date("vetting", "Date of the enhanced vetting check", When.PAST)
    training = form.date("training", "Date the training was completed", When.PAST)
    if form.errors or vetting is None or training is None:
        return render_user(request, actor, user, form.errors, request.POST)

    def change() -> None:
        service.enable(actor, user, vetting_checked_on=vetting, training_completed_on=training)

    failed = _apply(request, actor, user, change, "vetting-day")
    return failed or _done(request, user, f"{user.name} is enabled and can sign in")


@user_action
def recertify_user(request: HttpRequest, actor: Actor, user: User) -> HttpResponse:
    """Confirm the user still needs access (every few months)."""
    failed = _apply(request, actor, user, lambda: service.recertify(actor, user), "recertify")
    if failed:
        return failed
    due = add_months(user.certified_on, RECERTIFY_MONTHS) if user.certified_on else None
    return _done(request, user, f"{user.name} is recertified until {long_date(due)}")


@user_action
def disable_user(request: HttpRequest, actor: Actor, user: User) -> HttpResponse:
    """Stop the user at once."""
    failed = _apply(request, actor, user, lambda: service.disable(actor, user), "disable")
    return failed or _done(request, user, f"{user.name} is disabled and signed out everywhere")


@user_action
def change_user_role(request: HttpRequest, actor: Actor, user: User) -> HttpResponse:
    """Give the user another role."""
    form = Reader(request.POST)
    # Any role is read, so one the actor may not give reaches the decider and is refused.
    role = form.choice("role", {r.value: r for r in Role}, "Select the user's new role")
    if role is None:
        return render_user(request, actor, user, form.errors, request.POST)
    failed = _apply(request, actor, user, lambda: service.change_role(actor, user, role), "role")
    message = f"{user.name} now has the {role.label.lower()} role and is signed out everywhere"
    return failed or _done(request, user, message)


@user_action
def reset_user_password(request: HttpRequest, actor: Actor, user: User) -> HttpResponse:
    """Stop the password and second factors, and e-mail the user a link to set a new one."""
    failed = _apply(
        request, actor, user, lambda: service.reset_password(actor, user), "reset-password"
    )
    return failed or page(request, "users/password.html", {"user": user, "link_hours": LINK_HOURS})
