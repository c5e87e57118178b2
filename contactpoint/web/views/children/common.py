"""What the practitioner's pages share: finding the child (or one not-found page for every
reason), showing a record, and the words for dates and codes.

A child the user may not open is not found, exactly as a contactpoint ID that does not
exist: the page says to search first and names nothing, so IDs cannot be tried one by one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone

from contactpoint.access.permissions import Permission, decide
from contactpoint.access.users import Actor
from contactpoint.practice.involvements import registration
from contactpoint.practice.models import FamilyNotice
from contactpoint.practice.record import Record, Shown, View, local_team
from contactpoint.practice.shielding import may_decide as may_decide_shielding
from contactpoint.registry.models import Child, Involvement, Organisation
from contactpoint.web.pages import long_date, page
from contactpoint.web.views.children.search import results_with

SEX = {"F": "Female", "M": "Male", "U": "Not known"}


def not_found(request: HttpRequest) -> HttpResponse:
    """One answer for a child that does not exist and one the user may not open."""
    return render(request, "children/not_found.html", {"errors": {}}, status=404)


def purged(request: HttpRequest) -> HttpResponse:
    """All there is to say of a purged record to its local index team (no one else is told
    it existed), and nothing that identifies it."""
    return render(request, "children/purged.html", {"errors": {}}, status=404)


def record_url(child: Child | Record) -> str:
    return f"/children/{child.cpid}"


def shown_date(shown: Shown | None) -> str:
    """A date field of the record (ISO text), as "4 March 2015"."""
    if shown is None:
        return "Not known"
    try:
        return long_date(dt.date.fromisoformat(shown.value))
    except ValueError:
        return shown.value


def shown_sex(shown: Shown | None) -> str:
    return SEX.get(shown.value, shown.value) if shown else "Not known"


def full_name(record: Record) -> str:
    parts = [s.value for s in (record.given_name, record.family_name) if s]
    return " ".join(parts) or "Name not known"


def when(moment: dt.datetime | None) -> str:
    """A moment in local time, as "4 March 2026 at 2:05pm"."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    clock = f"{local:%I:%M}".lstrip("0") + ("am" if local.hour < 12 else "pm")
    return f"{long_date(local.date())} at {clock}"


def helpers() -> dict[str, Any]:
    """The formatting functions every page of this package uses."""
    return {
        "long_date": long_date,
        "shown_date": shown_date,
        "shown_sex": shown_sex,
        "full_name": full_name,
        "when": when,
    }


def emergency_minutes() -> int:
    return int(settings.CONTACTPOINT_EMERGENCY_ACCESS_SECONDS) // 60


SENSITIVE_OPTIONS = list(Involvement.SensitiveCategory.choices)
CONSENT_OPTIONS = list(Involvement.ConsentBasis.choices)


def render_record(
    request: HttpRequest,
    actor: Actor,
    record: Record,
    errors: dict[str, str] | None = None,
    values: QueryDict | None = None,
) -> HttpResponse:
    """The record page; with `errors`, as a form or button on it left it (status 400)."""
    principal = actor.principal
    # The register form shows when the user's service is not involved yet, and again with
    # its errors when it was just posted.
    own = any(i.mine for i in record.involvements) and not (errors and values and "role" in values)
    context: dict[str, Any] = {
        **helpers(),
        "record": record,
        "View": View,
        "back_to_results": results_with(request, record.child_id),
        "printed_at": timezone.now(),
        "can_register": record.view is not View.WITHHELD
        and record.archived_on is None
        and not own
        and bool(decide(principal, Permission.CHILD_INVOLVEMENT_REGISTER)),
        "can_emergency": record.view is View.IDENTITY
        and record.archived_on is None
        and bool(decide(principal, Permission.CHILD_EMERGENCY_ACCESS)),
        "emergency_minutes": emergency_minutes(),
        "can_shield": may_decide_shielding(principal, record.child_id),
        "team_links": team_links(actor, record),
        "role_options": registration.roles_for(
            Organisation.objects.only("kind").get(pk=principal.organisation_id).kind
        ),
        "sensitive_options": SENSITIVE_OPTIONS,
        "consent_options": CONSENT_OPTIONS,
        "notice_risk_options": list(FamilyNotice.Risk.choices),
        "errors": errors or {},
        "values": values if values is not None else QueryDict(),
    }
    return page(request, "children/record.html", context, status=400 if errors else 200)


# The local index team's work on a child, each page under /children/<cpid>/.
TEAM_PAGES = (
    (Permission.AREA_SUBJECT_ACCESS_MANAGE, "subject-access", "Record a subject-access request"),
    (Permission.AREA_RECTIFICATION_MANAGE, "rectification", "Record a request to correct a field"),
    (
        Permission.AREA_RETENTION_MANAGE,
        "retention-extension",
        "Keep the record until 25 (a care leaver, or special educational needs)",
    ),
)


def team_links(actor: Actor, record: Record) -> list[tuple[str, str]]:
    """The local index team's pages for this child the user may use: (address, words)."""
    return [
        (f"/children/{record.cpid}/{page}", words)
        for permission, page, words in TEAM_PAGES
        if local_team(actor.principal, record.child_id, permission)
    ]
