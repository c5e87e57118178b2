"""The start page at `/`: for someone signed out, what the service is and how to sign in;
for someone signed in, a home for their role (what to do first, their new alerts, the
queues of their team with counts). Registry counts only to the national administrators.

`/` is public, so this view decides itself what a visitor sees: nothing about children or
users to anyone signed out, and only counts of a signed-in user's own work.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from contactpoint.access.models import User
from contactpoint.access.permissions import GRANTS, Permission, decide
from contactpoint.access.users import Actor
from contactpoint.oversight import declarations
from contactpoint.practice import shielding
from contactpoint.practice.families import family_notices, rectification
from contactpoint.practice.involvements import alerts, emergency
from contactpoint.registry.models import Child, SourceRecord
from contactpoint.web.access import PUBLIC, access_rule, principal_of
from contactpoint.web.pages import page
from contactpoint.web.words import described


def counts() -> dict[str, int]:
    """The registry's size, for the national administrators' home page."""
    return {
        "children": Child.objects.filter(status=Child.Status.ACTIVE).count(),
        "source_records": SourceRecord.objects.count(),
        "waiting_for_linkage": SourceRecord.objects.filter(status="pending").count(),
    }


# The groups the team's pages are listed under, in this order, on the home page (the
# header's menu links there rather than listing them all: up to ten for the index team).
REVIEWS, INDEX_TEAM, ADMINISTRATION = "Reviews", "Local index team", "Administration"
GROUPS = {
    "/emergency-access": REVIEWS,
    "/oversight": REVIEWS,
    "/shielding": INDEX_TEAM,
    "/linkage/review": INDEX_TEAM,
    "/rectification": INDEX_TEAM,
    "/family-notices": INDEX_TEAM,
    "/users": ADMINISTRATION,
    "/organisations": ADMINISTRATION,
}


def queues(actor: Actor) -> list[dict[str, Any]]:
    """The work waiting for this user's team, each with its page and (where counting reads
    nothing audited) how many items wait: only the queues the user may open."""
    principal = actor.principal
    may = {p for p in Permission if decide(principal, p)}
    found: list[dict[str, Any]] = []

    def add(permission: Permission, href: str, words: str, count: int | None = None) -> None:
        if permission in may:
            group = GROUPS[href]
            found.append({"href": href, "words": words, "count": count, "group": group})

    if Permission.ORGANISATION_EMERGENCY_ACCESS_REVIEW in may:
        add(
            Permission.ORGANISATION_EMERGENCY_ACCESS_REVIEW,
            "/emergency-access",
            "Uses of emergency access to review",
            emergency.to_review(actor).count(),
        )
    add(Permission.ORGANISATION_MISUSE_ALERTS_REVIEW, "/oversight", "Alerts of possible misuse")
    if Permission.AREA_SHIELDING_DECIDE in may:
        waiting = len(shielding.queue(actor).waiting)
        add(Permission.AREA_SHIELDING_DECIDE, "/shielding", "Shielding decisions", waiting)
    add(Permission.AREA_LINKAGE_REVIEW_DECIDE, "/linkage/review", "Records to review for linkage")
    if Permission.AREA_RECTIFICATION_MANAGE in may:
        count = rectification.queue(actor).count()
        add(Permission.AREA_RECTIFICATION_MANAGE, "/rectification", "Requests to correct", count)
    if Permission.AREA_FAMILY_NOTICES_MANAGE in may:
        due = family_notices.due(actor).count()
        add(Permission.AREA_FAMILY_NOTICES_MANAGE, "/family-notices", "Family notices due", due)
    add(Permission.ORGANISATION_USERS_READ, "/users", "Users")
    add(Permission.AREA_ORGANISATIONS_READ, "/organisations", "Organisations")
    return found


def grouped(found: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The queues under their groups, each group in the order of its first queue."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for queue in found:
        groups.setdefault(queue["group"], []).append(queue)
    return list(groups.items())


@access_rule(PUBLIC)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    principal = principal_of(request)
    user = request.user
    if principal is None or not isinstance(user, User):
        return render(request, "start/start.html", {"errors": {}})
    if not principal.active:  # told why on the public page: not a refusal of anything
        return render(request, "errors/suspended.html", {"errors": {}})
    actor = Actor.of(user)
    context: dict[str, Any] = {
        "me": user,
        "can_search": bool(decide(principal, Permission.CHILD_RECORDS_SEARCH)),
        "new_alerts": alerts.unread(user)
        if decide(principal, Permission.SELF_ALERTS_READ)
        else None,
        "queues": grouped(queues(actor)),
        "may": described(GRANTS[user.role_enum]),
        "home_postcode": declarations.home_postcode(user),
        "counts": counts() if decide(principal, Permission.NATIONAL_ORGANISATIONS_READ) else None,
    }
    return page(request, "start/home.html", context)
