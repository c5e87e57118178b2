"""What every page shares: the signed-in actor, the one-off notice after a redirect, a
service's message as an error message, and rendering with them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from contactpoint.access.models import User
from contactpoint.access.users import Actor

NOTICE = "cp_notice"  # the session key of the one-off success banner after a redirect


def actor_of(request: HttpRequest) -> Actor:
    user = request.user
    if not isinstance(user, User):  # the access rule lets only signed-in users this far
        raise PermissionDenied
    return Actor.of(user)


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
