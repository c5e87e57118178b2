"""Retention: the local index team's pages (docs/retention.md).

`/children/<cpid>/statutory-access` records why the team reads a record archived more
than a year ago (a statutory reason and an explanation, after the second factor again);
the record then opens at `/children/<cpid>` until the end of the day. A purged record
says only that it was purged. `/children/<cpid>/retention-extension` keeps an active
child's record to 25 (a care leaver, or SEN with the young person's consent).

An archived child of another area, or any child the user may not open, is not found, as
everywhere else.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.views.decorators.http import require_http_methods

from contactpoint.access.permissions import Permission
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.practice.models import StatutoryAccess
from contactpoint.practice.record import in_first_year, openable
from contactpoint.practice.retention import archived
from contactpoint.registry.lookup import NotFound, Purged
from contactpoint.registry.models import Child
from contactpoint.web.access import access_rule, refused, step_up
from contactpoint.web.pages import actor_of, notify, page, sentence
from contactpoint.web.views.children.common import helpers, not_found, purged, record_url
from contactpoint.web.views.users.forms import Reader

REASONS = list(StatutoryAccess.Reason.choices)
EXTENSIONS = [*Child.Extension.choices, (archived.NO_EXTENSION, "No extension: archive at 18")]


@access_rule(Permission.AREA_ARCHIVED_CHILDREN_READ)
@step_up
@require_http_methods(["GET", "POST"])
def statutory_access(request: HttpRequest, cpid: str) -> HttpResponse:
    """A statutory reason to read a record archived more than a year ago, for the day."""
    actor = actor_of(request)
    try:
        child = archived.archived_child(actor, cpid)
    except Purged:
        return purged(request)
    except NotFound:
        return not_found(request)
    if in_first_year(child):
        notify(request, "In the year after archiving, your team reads this record without a reason")
        return HttpResponseRedirect(record_url(child))
    if request.method != "POST":
        return _form(request, actor, child)
    form = Reader(request.POST)
    reason = form.choice(
        "reason", {str(v): str(v) for v in StatutoryAccess.Reason.values}, "Select the reason"
    )
    explanation = str(request.POST.get("explanation", ""))[:4000]
    if len(explanation.strip()) < archived.MIN_EXPLANATION:
        form.errors["explanation"] = (
            f"Explain which enquiry or review, in at least {archived.MIN_EXPLANATION} characters"
        )
    if form.errors or reason is None:
        return _form(request, actor, child, form.errors)
    try:
        archived.open_statutory(actor, child, reason, explanation)
    except NotFound:
        return not_found(request)
    except Refused as refusal:
        return refused(request, str(refusal))
    except Invalid as invalid:
        return _form(request, actor, child, {"explanation": sentence(str(invalid))})
    notify(request, "Your reason is recorded. You can read this record until midnight.")
    return HttpResponseRedirect(record_url(child))


def _form(
    request: HttpRequest, actor: Actor, child: Child, errors: dict[str, str] | None = None
) -> HttpResponse:
    context: dict[str, Any] = {
        **helpers(),
        "cpid": child.cpid,
        "archived_on": child.archived_on,
        "running": archived.running(actor, child),
        "reasons": REASONS,
        "minimum": archived.MIN_EXPLANATION,
        "errors": errors or {},
        "values": request.POST if errors else QueryDict(),
    }
    status = 400 if errors else 200
    return page(request, "children/statutory_access.html", context, status=status)


@access_rule(Permission.AREA_RETENTION_MANAGE)
@require_http_methods(["GET", "POST"])
def retention_extension(request: HttpRequest, cpid: str) -> HttpResponse:
    """Keep an active child's record to 25, or stop doing so; before it is archived."""
    actor = actor_of(request)
    try:
        child = openable(actor.principal, cpid)
    except NotFound:
        return not_found(request)
    if request.method != "POST":
        return _extension_form(request, child)
    form = Reader(request.POST)
    choice = form.choice(
        "extension", {str(v): str(v) for v, _ in EXTENSIONS}, "Select why the record is kept"
    )
    if choice is None:
        return _extension_form(request, child, form.errors)
    try:
        archived.record_extension(actor, child, choice)
    except Refused as refusal:
        return refused(request, sentence(str(refusal)))
    except Invalid as invalid:
        return _extension_form(request, child, {"extension": sentence(str(invalid))})
    notify(request, "The retention of this record is recorded.")
    return HttpResponseRedirect(record_url(child))


def _extension_form(
    request: HttpRequest, child: Child, errors: dict[str, str] | None = None
) -> HttpResponse:
    context: dict[str, Any] = {
        "cpid": child.cpid,
        "current": child.retention_extension or archived.NO_EXTENSION,
        "archived": child.status != Child.Status.ACTIVE,
        "options": EXTENSIONS,
        "errors": errors or {},
    }
    status = 400 if errors else 200
    return page(request, "children/retention_extension.html", context, status=status)
