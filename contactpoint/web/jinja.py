"""The Jinja2 environment for GOV.UK Frontend templates."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.templatetags.static import static
from jinja2 import Environment

from contactpoint.access.models import User
from contactpoint.access.permissions import Permission, decide
from contactpoint.practice.involvements import alerts


def nav(request: HttpRequest) -> list[dict[str, str]]:
    """The header links a signed-in user may follow; nothing they would be refused.

    Short, so that it fits one line and folds under "Menu" on a small screen: the pages of
    the user's team (reviews, the local index team's queues, administration) are grouped on
    the home page, which "Your team's work" leads to.
    """
    principal = getattr(request, "principal", None)
    items: list[dict[str, str]] = [{"href": "/", "text": "Home"}]
    if principal is None:
        return items
    if decide(principal, Permission.CHILD_RECORDS_SEARCH):
        items.append({"href": "/search", "text": "Find a child"})
    if decide(principal, Permission.SELF_ALERTS_READ):
        count = alerts.unread(request.user) if isinstance(request.user, User) else 0
        items.append({"href": "/alerts", "text": f"Alerts ({count} new)" if count else "Alerts"})
    if any(decide(principal, permission) for permission in TEAM_PERMISSIONS):
        items.append({"href": "/#team-work", "text": "Your team's work"})
    items.append({"href": "/account", "text": "Your account"})
    return items


# A role holding any of these has pages of its team's work (listed on the home page).
TEAM_PERMISSIONS = (
    Permission.ORGANISATION_EMERGENCY_ACCESS_REVIEW,
    Permission.ORGANISATION_MISUSE_ALERTS_REVIEW,
    Permission.AREA_SHIELDING_DECIDE,
    Permission.AREA_LINKAGE_REVIEW_DECIDE,
    Permission.AREA_RECTIFICATION_MANAGE,
    Permission.AREA_FAMILY_NOTICES_MANAGE,
    Permission.ORGANISATION_USERS_READ,
    Permission.AREA_ORGANISATIONS_READ,
)


def environment(**options: Any) -> Environment:
    env = Environment(**options)  # noqa: S701 - autoescape comes from Django's backend
    env.globals.update(static=static, nav=nav)
    return env
