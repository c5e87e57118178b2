"""The Jinja2 environment for GOV.UK Frontend templates."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.templatetags.static import static
from jinja2 import Environment

from contactpoint.access.models import User
from contactpoint.access.permissions import Permission, decide
from contactpoint.practice import alerts


def nav(request: HttpRequest) -> list[dict[str, str]]:
    """The header links a signed-in user may follow; nothing they would be refused."""
    principal = getattr(request, "principal", None)
    items: list[dict[str, str]] = [{"href": "/", "text": "Home"}]
    if principal is not None and decide(principal, Permission.CHILD_RECORDS_SEARCH):
        items.append({"href": "/search", "text": "Find a child"})
    if principal is not None and decide(principal, Permission.SELF_ALERTS_READ):
        count = alerts.unread(request.user) if isinstance(request.user, User) else 0
        items.append({"href": "/alerts", "text": f"Alerts ({count} new)" if count else "Alerts"})
    if principal is not None and decide(principal, Permission.ORGANISATION_EMERGENCY_ACCESS_REVIEW):
        items.append({"href": "/emergency-access", "text": "Emergency access reviews"})
    if principal is not None and decide(principal, Permission.ORGANISATION_MISUSE_ALERTS_REVIEW):
        items.append({"href": "/oversight", "text": "Misuse alerts"})
    if principal is not None and decide(principal, Permission.AREA_SHIELDING_DECIDE):
        items.append({"href": "/shielding", "text": "Shielding"})
    if principal is not None and decide(principal, Permission.AREA_LINKAGE_REVIEW_DECIDE):
        items.append({"href": "/linkage/review", "text": "Linkage review"})
    if principal is not None and decide(principal, Permission.AREA_RECTIFICATION_MANAGE):
        items.append({"href": "/rectification", "text": "Corrections"})
    if principal is not None and decide(principal, Permission.AREA_FAMILY_NOTICES_MANAGE):
        items.append({"href": "/family-notices", "text": "Family notices"})
    items.append({"href": "/account", "text": "Your account"})
    if principal is not None and decide(principal, Permission.ORGANISATION_USERS_READ):
        items.append({"href": "/users", "text": "Users"})
    if principal is not None and decide(principal, Permission.AREA_ORGANISATIONS_READ):
        items.append({"href": "/organisations", "text": "Organisations"})
    return items


def environment(**options: Any) -> Environment:
    env = Environment(**options)  # noqa: S701 - autoescape comes from Django's backend
    env.globals.update(static=static, nav=nav)
    return env
