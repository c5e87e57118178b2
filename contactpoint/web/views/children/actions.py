"""The buttons on a record and on alerts: confirm, end, lead, CAF; agree to a handover;
ask a sensitive service to get in touch, and its answer.

Each is a POST that goes back to the child's record with a banner, or shows the record
again with the message at the involvement. The thing acted on (involvement, handover,
request) leads to a child; a child the user may not open is not found, as on the record
page, whatever the id. The services decide everything else (only the user's own
organisation's involvement changes). A GET of an action's address goes to the record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods

from contactpoint.access.permissions import Permission
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.practice import involvements as service
from contactpoint.practice.involvements import contact_requests, handovers
from contactpoint.practice.models import ContactRequest, Handover
from contactpoint.practice.record import may_open, openable, record_for
from contactpoint.registry.lookup import NotFound
from contactpoint.registry.models import Child, Involvement
from contactpoint.web.access import access_rule, refused
from contactpoint.web.pages import actor_of, notify, page, sentence
from contactpoint.web.views.children.common import (
    helpers,
    not_found,
    record_url,
    render_record,
)

# What an action does, given the posted form: the message for the banner.
Change = Callable[[HttpRequest, Actor, uuid.UUID], str]
# How to find the involvement an id names (for a handover: the current lead's).
Finder = Callable[[uuid.UUID], Involvement | None]


def _involvement(involvement_id: uuid.UUID) -> Involvement | None:
    return Involvement.objects.select_related("child").filter(pk=involvement_id).first()


def _handover_involvement(handover_id: uuid.UUID) -> Involvement | None:
    handover = Handover.objects.filter(pk=handover_id).first()
    return _involvement(handovers.ids_of(handover)[1]) if handover else None


def _request_involvement(request_id: uuid.UUID) -> Involvement | None:
    request = ContactRequest.objects.filter(pk=request_id).first()
    return _involvement(contact_requests.involvement_of(request)) if request else None


def action(
    permission: Permission, find: Finder, ask_first: bool = False
) -> Callable[[Change], Callable[..., Any]]:
    """Declare an action's rule, find its child (or not found), and answer as above. With
    `ask_first`, a GET or a POST without `confirmed=yes` shows a page asking to confirm."""

    def wrap(change: Change) -> Callable[[HttpRequest, uuid.UUID], HttpResponse]:
        @access_rule(permission)
        @require_http_methods(["GET", "POST"])
        def view(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
            actor = actor_of(request)
            involvement = find(pk)
            try:
                if involvement is None:
                    raise NotFound
                child = openable(actor.principal, involvement.child.cpid)
            except NotFound:
                return not_found(request)
            confirmed = request.method == "POST" and request.POST.get("confirmed") == "yes"
            asked = (
                _ask(request, actor, child, involvement) if ask_first and not confirmed else None
            )
            if asked is not None:
                return asked
            if request.method != "POST":
                return HttpResponseRedirect(record_url(child))
            try:
                message = change(request, actor, pk)
            except Refused as refusal:
                return refused(request, str(refusal))
            except Invalid as invalid:
                return _again(request, actor, child, involvement, sentence(str(invalid)))
            notify(request, message)
            if not may_open(actor.principal, child):  # ended their only link to the child
                return HttpResponseRedirect("/search")
            return HttpResponseRedirect(record_url(child))

        view.__name__ = view.__qualname__ = change.__name__
        view.__doc__ = change.__doc__
        return view

    return wrap


def _again(
    request: HttpRequest, actor: Actor, child: Child, involvement: Involvement, message: str
) -> HttpResponse:
    try:
        shown = record_for(actor.principal, child)
    except NotFound:
        return not_found(request)
    return render_record(request, actor, shown, {f"involvement-{involvement.pk}": message})


def _ask(
    request: HttpRequest, actor: Actor, child: Child, involvement: Involvement
) -> HttpResponse | None:
    """Are you sure you want to end your involvement? With a warning when it is the user's
    service's only involvement with the child (their only way to its contacts). None when
    the involvement is not the user's service's: the service then refuses, as it would."""
    try:
        shown = record_for(actor.principal, child)
    except NotFound:
        return not_found(request)
    mine = [i for i in shown.involvements if i.mine]
    this = next((i for i in mine if str(i.id) == str(involvement.pk)), None)
    if this is None:
        return None
    context = {
        **helpers(),
        "record": shown,
        "involvement": involvement,
        "role": this.role,  # the label, opened from the sealed facts by the record
        "only": len(mine) == 1,
    }
    return page(request, "children/end_involvement.html", context)


MANAGE = Permission.CHILD_INVOLVEMENT_MANAGE


@action(MANAGE, _involvement)
def confirm(request: HttpRequest, actor: Actor, pk: uuid.UUID) -> str:
    """Confirm the involvement is still current."""
    service.confirm(actor, pk)
    return "Your involvement is confirmed as current"


@action(MANAGE, _involvement, ask_first=True)
def end(request: HttpRequest, actor: Actor, pk: uuid.UUID) -> str:
    """End the involvement: the service no longer works with the child."""
    service.end(actor, pk)
    return "Your involvement has ended"


@action(MANAGE, _involvement)
def lead(request: HttpRequest, actor: Actor, pk: uuid.UUID) -> str:
    """Become lead professional, at once or by a handover the current lead agrees to."""
    if service.become_lead(actor, pk) is None:
        return "Your service is now the lead professional"
    return "The current lead professional's service is asked to hand over the role"


@action(MANAGE, _involvement)
def caf(request: HttpRequest, actor: Actor, pk: uuid.UUID) -> str:
    """Record whether a CAF / early-help assessment exists (never the assessment)."""
    exists = request.POST.get("exists") == "yes"
    service.record_caf(actor, pk, exists)
    return "Recorded that a CAF exists" if exists else "Recorded that there is no CAF"


@action(Permission.CHILD_RECORD_READ, _involvement)
def contact_request(request: HttpRequest, actor: Actor, pk: uuid.UUID) -> str:
    """Ask a sensitive service to get in touch; it decides whether to."""
    service.request_contact(actor, pk)
    return "The service is asked to get in touch with you. It decides whether to."


@action(MANAGE, _handover_involvement)
def handover(request: HttpRequest, actor: Actor, pk: uuid.UUID) -> str:
    """Agree to hand over the lead professional role, or decline."""
    decision = request.POST.get("decision")
    if decision not in ("agree", "decline"):
        raise Invalid("Choose whether to agree to the handover")
    service.decide_handover(actor, pk, agree=decision == "agree")
    if decision == "agree":
        return "The lead professional role is handed over"
    return "You declined to hand over the lead professional role"


@action(MANAGE, _request_involvement)
def answer_contact(request: HttpRequest, actor: Actor, pk: uuid.UUID) -> str:
    """Record what the sensitive service decided about a request to get in touch."""
    answer = request.POST.get("answer")
    if answer not in ("contacted", "declined"):
        raise Invalid("Choose what your service did")
    service.answer_contact(actor, pk, contacted=answer == "contacted")
    return "Your answer is recorded"
