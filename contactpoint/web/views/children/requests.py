"""What families ask of the local index team: corrections to a record (rectification) and
the notices that tell a family a new service works with their child (docs/families.md).

`/rectification` is the area's open correction requests; `/children/<cpid>/rectification`
records one for a child the user may open (found by a search); `POST /rectification/<id>`
moves it (sent to the source, corrected, refused, withdrawn). `/family-notices` is the
area's due notices; `/family-notices/<id>` the printable letter (`?format=text` for plain
text, `?services=yes` to name the other services); `POST /family-notices/<id>` records it
sent, or why not. Lists show children by contactpoint ID only.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from contactpoint.access.permissions import Permission
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.lib.identifiers import InvalidIdentifier, validate_cpid
from contactpoint.practice.families import family_notices, rectification
from contactpoint.practice.models import FamilyNotice, RectificationRequest
from contactpoint.practice.record import openable
from contactpoint.registry.lookup import NotFound
from contactpoint.registry.models import Child
from contactpoint.web.access import access_rule, refused, step_up
from contactpoint.web.pages import actor_of, notify, page, sentence
from contactpoint.web.views.children.common import helpers, not_found
from contactpoint.web.views.users.forms import Reader

RECTIFY = Permission.AREA_RECTIFICATION_MANAGE
NOTICES = Permission.AREA_FAMILY_NOTICES_MANAGE
QUEUE = "/rectification"
NOTICE_QUEUE = "/family-notices"


def _choices(choices: Any) -> dict[str, str]:
    return {str(v): str(v) for v in choices.values}


# Rectification ---------------------------------------------------------------------------


@access_rule(RECTIFY)
@require_GET
def rectification_queue(request: HttpRequest) -> HttpResponse:
    """The area's open requests; with `?cpid=`, on to the form for that child."""
    actor = actor_of(request)
    cpid = (request.GET.get("cpid") or "").strip()
    if cpid:
        try:
            return HttpResponseRedirect(f"/children/{validate_cpid(cpid)}/rectification")
        except InvalidIdentifier:
            return _queue(request, actor, {"cpid": "Enter a contactpoint ID, like CP-1234-5678"})
    return _queue(request, actor)


def _queue(
    request: HttpRequest, actor: Actor, errors: dict[str, str] | None = None
) -> HttpResponse:
    context = {
        **helpers(),
        "requests": rectification.with_about(rectification.queue(actor)),
        "errors": errors or {},
    }
    return page(
        request, "children/rectification_queue.html", context, status=400 if errors else 200
    )


def _form(request: HttpRequest, child: Child, errors: dict[str, str] | None = None) -> HttpResponse:
    context = {
        **helpers(),
        "cpid": child.cpid,
        "fields": list(RectificationRequest.Field.choices),
        "asked_by": list(RectificationRequest.AskedBy.choices),
        "errors": errors or {},
        "values": request.POST if errors else QueryDict(),
    }
    return page(request, "children/rectification.html", context, status=400 if errors else 200)


@access_rule(RECTIFY)
@step_up
@require_http_methods(["GET", "POST"])
def rectify(request: HttpRequest, cpid: str) -> HttpResponse:
    """Record a request to correct one field of the child's record."""
    actor = actor_of(request)
    try:
        child = openable(actor.principal, cpid)
    except NotFound:
        return not_found(request)
    if not rectification.may_manage(actor.principal, child.pk):
        return refused(request, sentence(rectification.NOT_LOCAL))
    if request.method != "POST":
        return _form(request, child)
    form = Reader(request.POST)
    field = form.choice("field", _choices(RectificationRequest.Field), "Select the field")
    value = form.text("value", "Enter what the field should say")[: rectification.MAX_VALUE + 1]
    asked_by = form.choice(
        "asked_by", _choices(RectificationRequest.AskedBy), "Select who asked for it"
    )
    note = str(request.POST.get("note", ""))[: rectification.MAX_NOTE + 1]
    if form.errors or field is None or asked_by is None:
        return _form(request, child, form.errors)
    try:
        made = rectification.record(actor, child, field, value, asked_by, note)
    except Refused as refusal:
        return refused(request, sentence(str(refusal)))
    except Invalid as invalid:
        return _form(request, child, {"value": sentence(str(invalid))})
    notify(request, f"The request is recorded. Its reference is {made.reference}.")
    return HttpResponseRedirect(QUEUE)


STEPS = {
    "corrected": "The source corrected its record. The request is closed.",
    "refused": "The source refused the correction. The request is closed.",
    "withdrawn": "The request is withdrawn.",
}


@access_rule(RECTIFY)
@step_up
@require_http_methods(["GET", "POST"])
def rectification_step(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Send a request to its source (showing the message to forward), show that message
    again, or record the source's answer or a withdrawal."""
    actor = actor_of(request)
    if request.method != "POST":
        return HttpResponseRedirect(QUEUE)
    if not RectificationRequest.objects.filter(pk=pk).exists():
        return not_found(request)
    action = str(request.POST.get("action", ""))
    note = str(request.POST.get("note", ""))[: rectification.MAX_NOTE + 1]
    field = f"request-{pk}"
    if action not in ("sent", "message", *STEPS):
        return _queue(request, actor, {field: "Select what happened to the request"})
    try:
        if action in ("sent", "message"):
            step = rectification.send if action == "sent" else rectification.show
            made, message = step(actor, pk)
            context = {**helpers(), "made": made, "message": message, "errors": {}}
            return page(request, "children/rectification_message.html", context)
        if action == "withdrawn":
            rectification.withdraw(actor, pk, note)
        else:
            rectification.answer(actor, pk, action == "corrected", note)
    except Refused as refusal:
        return refused(request, sentence(str(refusal)))
    except Invalid as invalid:
        return _queue(request, actor, {field: sentence(str(invalid))})
    notify(request, STEPS[action])
    return HttpResponseRedirect(QUEUE)


# Family notices --------------------------------------------------------------------------


@access_rule(NOTICES)
@require_GET
def notice_queue(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    context = {**helpers(), "notices": list(family_notices.due(actor)), "errors": {}}
    return page(request, "children/family_notices.html", context)


def _letter(
    request: HttpRequest, actor: Actor, pk: uuid.UUID, errors: dict[str, str] | None = None
) -> HttpResponse:
    with_services = request.GET.get("services") == "yes"
    try:
        notice = family_notices.find(actor, pk)
        letter = family_notices.letter(actor, pk, with_services)
    except Refused as refusal:
        return refused(request, sentence(str(refusal)))
    except Invalid:
        return not_found(request)
    if letter is not None and request.GET.get("format") == "text" and not errors:
        text = family_notices.letter_text(letter)
        return HttpResponse(text, content_type="text/plain; charset=utf-8")
    context = {
        **helpers(),
        "notice": notice,
        "outcome": family_notices.outcome_of(notice),
        "letter": letter,
        "with_services": with_services,
        "needs_review": sentence(family_notices.NEEDS_REVIEW),
        "today": timezone.localdate(),
        "hows": list(FamilyNotice.How.choices),
        "reasons": list(FamilyNotice.NotSent.choices),
        "errors": errors or {},
    }
    status = 400 if errors else 200
    return page(request, "children/family_notice.html", context, status=status)


@access_rule(NOTICES)
@require_http_methods(["GET", "POST"])
def notice(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """The letter (GET, printable); recording it sent or not sent (POST, step-up)."""
    if request.method == "POST":
        return _notice_step(request, pk)
    return _letter(request, actor_of(request), pk)


@step_up
def _notice_step(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    if not FamilyNotice.objects.filter(pk=pk).exists():
        return not_found(request)
    form = Reader(request.POST)
    outcome = str(request.POST.get("outcome", ""))
    try:
        if outcome == "sent":
            how = form.choice("how", _choices(FamilyNotice.How), "Select how you sent it")
            if how is None:
                return _letter(request, actor, pk, form.errors)
            family_notices.mark_sent(actor, pk, how)
            message = "The notice is recorded as sent."
        elif outcome == "not_sent":
            reason = form.choice(
                "reason", _choices(FamilyNotice.NotSent), "Select why it is not sent"
            )
            if reason is None:
                return _letter(request, actor, pk, form.errors)
            family_notices.mark_not_sent(actor, pk, reason)
            message = "The notice is recorded as not sent, with your reason."
        else:
            return _letter(request, actor, pk, {"how": "Select what happened"})
    except Refused as refusal:
        return refused(request, sentence(str(refusal)))
    except Invalid as invalid:
        return _letter(request, actor, pk, {"how": sentence(str(invalid))})
    notify(request, message)
    return HttpResponseRedirect(NOTICE_QUEUE)
