"""What the user and organisation pages share: the actor, lookups that 404, the notice."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from contactpoint.access.models import User
from contactpoint.access.permissions import ASSIGNABLE, Permission, Role, decide
from contactpoint.access.users import Actor, visible_users
from contactpoint.registry.models import Organisation

NOTICE = "cp_notice"  # the session key of the one-off success banner after a redirect


def actor_of(request: HttpRequest) -> Actor:
    user = request.user
    if not isinstance(user, User):  # the access rule lets only signed-in users this far
        raise PermissionDenied
    return Actor.of(user)


def user_or_404(actor: Actor, user_id: uuid.UUID) -> User:
    # A user outside the actor's reach does not exist, as far as any page says.
    user = visible_users(actor).filter(pk=user_id).first()
    if user is None:
        raise Http404
    return user


def organisations_for(actor: Actor, national: Permission) -> QuerySet[Organisation]:
    """The organisations of the actor's council area; all of them with the national grant."""
    organisations = Organisation.objects.select_related("council_area", "accreditation")
    if decide(actor.principal, national):
        return organisations.order_by("name")
    area = actor.principal.area_code
    if area is None:
        return organisations.none()
    return organisations.filter(council_area__code=area).order_by("name")


def organisation_or_404(actor: Actor, code: str, national: Permission) -> Organisation:
    organisation = organisations_for(actor, national).filter(code=code).first()
    if organisation is None:
        raise Http404
    return organisation


def role_options(actor: Actor) -> list[tuple[str, str]]:
    """The roles the actor may give, as radio options in the vocabulary's order."""
    return [(r.value, r.label) for r in Role if r in ASSIGNABLE[actor.principal.role]]


def notify(request: HttpRequest, message: str) -> None:
    request.session[NOTICE] = message


def long_date(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else "Not recorded"


def sentence(message: str) -> str:
    """A service's message ("enter the name") as a GOV.UK error message ("Enter the name")."""
    return message[:1].upper() + message[1:]


def page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page with the notice left by the last action (shown once) and the helpers."""
    notice = request.session.pop(NOTICE, None)
    return render(
        request,
        template,
        {"notice": notice, "long_date": long_date, "errors": {}, **context},
        status=status,
    )
