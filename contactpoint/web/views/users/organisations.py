"""The organisations of the index team's area, and their accreditation.

An organisation's users may act only while it is accredited; withdrawing it (or setting an
expiry already past) ends its users' sessions at once.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET, require_http_methods

from contactpoint.access.models import Accreditation, accreditation_of
from contactpoint.access.permissions import Permission, decide
from contactpoint.access.users import Actor, Refused, accredit
from contactpoint.registry.models import Organisation
from contactpoint.web.access import access_rule, refused, step_up
from contactpoint.web.pages import actor_of, long_date, notify, page
from contactpoint.web.views.users.common import organisation_or_404, organisations_for
from contactpoint.web.views.users.forms import Reader, When

NATIONAL = Permission.NATIONAL_ORGANISATIONS_MANAGE


def standing(organisation: Organisation, today: dt.date) -> str:
    """Accredited, Lapsed, Withdrawn or Not accredited."""
    accreditation = accreditation_of(organisation)
    if accreditation is None:
        return "Not accredited"
    if accreditation.status == Accreditation.Status.WITHDRAWN:
        return "Withdrawn"
    return "Accredited" if accreditation.in_force(today) else "Lapsed"


@access_rule(Permission.AREA_ORGANISATIONS_READ)
@require_GET
def organisation_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    today = dt.date.today()
    rows = [(o, standing(o, today)) for o in organisations_for(actor, NATIONAL)]
    manages = bool(decide(actor.principal, Permission.AREA_ORGANISATIONS_MANAGE))
    return page(request, "organisations/list.html", {"rows": rows, "manages": manages})


@access_rule(Permission.AREA_ORGANISATIONS_MANAGE)
@step_up
@require_http_methods(["GET", "POST"])
def accreditation(request: HttpRequest, code: str) -> HttpResponse:
    """Set when the organisation's accreditation expires, or withdraw it."""
    actor = actor_of(request)
    organisation = organisation_or_404(actor, code, NATIONAL)
    if request.method != "POST":
        return _form(request, organisation)
    current: Accreditation | None = getattr(organisation, "accreditation", None)
    if request.POST.get("decision") == "withdraw":
        expires_on = current.expires_on if current else dt.date.today()
        return _record(request, actor, organisation, expires_on, withdrawn=True)
    form = Reader(request.POST)
    expires_on_or_none = form.date("expires", "Expiry date", When.FUTURE)
    if expires_on_or_none is None:
        return _form(request, organisation, form.errors)
    return _record(request, actor, organisation, expires_on_or_none, withdrawn=False)


def _record(
    request: HttpRequest,
    actor: Actor,
    organisation: Organisation,
    expires_on: dt.date,
    *,
    withdrawn: bool,
) -> HttpResponse:
    try:
        accredit(actor, organisation, expires_on=expires_on, withdrawn=withdrawn)
    except Refused as refusal:
        return refused(request, str(refusal), refusal.status)
    if withdrawn:
        message = f"{organisation.name}'s accreditation is withdrawn; its users are signed out"
    else:
        message = f"{organisation.name} is accredited until {long_date(expires_on)}"
    notify(request, message)
    return HttpResponseRedirect("/organisations")


def _form(
    request: HttpRequest, organisation: Organisation, errors: dict[str, str] | None = None
) -> HttpResponse:
    context = {
        "organisation": organisation,
        "standing": standing(organisation, dt.date.today()),
        "accreditation": getattr(organisation, "accreditation", None),
        "errors": errors or {},
        "values": request.POST,
        # Only the national team grants accreditation; an index team may only withdraw it.
        "grants": bool(decide(actor_of(request).principal, NATIONAL)),
    }
    return page(request, "organisations/accreditation.html", context, 400 if errors else 200)
