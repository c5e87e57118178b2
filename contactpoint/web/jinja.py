"""The Jinja2 environment for GOV.UK Frontend templates."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.templatetags.static import static
from jinja2 import Environment

from contactpoint.access.permissions import Permission, decide


def nav(request: HttpRequest) -> list[dict[str, str]]:
    """The header links a signed-in user may follow; nothing they would be refused."""
    principal = getattr(request, "principal", None)
    items = [{"href": "/account", "text": "Your account"}]
    if principal is not None and decide(principal, Permission.ORGANISATION_USERS_READ):
        items.append({"href": "/users", "text": "Users"})
    if principal is not None and decide(principal, Permission.AREA_ORGANISATIONS_READ):
        items.append({"href": "/organisations", "text": "Organisations"})
    return items


def environment(**options: Any) -> Environment:
    env = Environment(**options)  # noqa: S701 - autoescape comes from Django's backend
    env.globals.update(static=static, nav=nav)
    return env
