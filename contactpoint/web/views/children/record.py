"""A child's record, registering an involvement with the child, and emergency access.

Everything the record page shows comes from `contactpoint.practice.record.record_for`,
which alone decides what this user may see. Registering and emergency access are offered
only for a child the user may open (found by a search, or seen in full): the services
themselves would take any child, and a guessed contactpoint ID must not become a way in.
"""

from __future__ import annotations

from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from contactpoint.access.permissions import Permission
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.audit import log as audit_log
from contactpoint.practice import involvements
from contactpoint.practice.involvements import Details, emergency
from contactpoint.practice.involvements.registration import RegistrationLimit
from contactpoint.practice.models import EmergencyAccess, FamilyNotice
from contactpoint.practice.record import Record, View, openable, record_for
from contactpoint.registry.lookup import NotFound, Purged
from contactpoint.registry.models import Child, Involvement
from contactpoint.web.access import access_rule, refused, step_up
from contactpoint.web.pages import actor_of, notify, page, sentence
from contactpoint.web.views.children.common import (
    emergency_minutes,
    helpers,
    not_found,
    purged,
    record_url,
    render_record,
)
from contactpoint.web.views.users.forms import Reader

REASONS = list(EmergencyAccess.Reason.choices)


def _opened(request: HttpRequest, actor: Actor, cpid: str) -> tuple[Child, Record] | HttpResponse:
    """The child and its record as the actor may see it (audited), or the not-found page."""
    try:
        child = openable(actor.principal, cpid)
        return child, record_for(actor.principal, child)
    except Purged:
        return purged(request)
    except NotFound:
        return not_found(request)


@access_rule(Permission.CHILD_RECORD_READ)
@require_GET
def record(request: HttpRequest, cpid: str) -> HttpResponse:
    actor = actor_of(request)
    opened = _opened(request, actor, cpid)
    if isinstance(opened, HttpResponse):
        return opened
    return render_record(request, actor, opened[1])


PRINT = "child:record:print"


@access_rule(Permission.CHILD_RECORD_READ)
@require_GET
def print_view(request: HttpRequest, cpid: str) -> HttpResponse:
    """The record for paper, marked OFFICIAL-SENSITIVE with who printed it and when. Only a
    record the user sees in full; opening it is audited as a print as well as a view."""
    actor = actor_of(request)
    opened = _opened(request, actor, cpid)
    if isinstance(opened, HttpResponse):
        return opened
    child, shown = opened
    if shown.view is not View.FULL:
        return HttpResponseRedirect(record_url(child))  # nothing there worth paper
    audit_log.append(audit_log.entry(actor.principal, PRINT, child_id=child.pk))
    context = {**helpers(), "record": shown, "printing": True, "printed_at": timezone.now()}
    return page(request, "children/print.html", context)


def _values(choices: type[models.TextChoices]) -> dict[str, str]:
    return {str(v): str(v) for v in choices.values}


def read_details(form: Reader) -> Details | None:
    """The register form as the service's Details; None with `form.errors` when wrong."""
    role = form.choice("role", _values(Involvement.Role), "Select your role with the child")
    job_title = form.text("job_title", "Enter your job title")
    phone = form.text("phone", "Enter a phone number others can reach you on")
    if len(job_title) > 120:
        form.errors["job_title"] = "Job title must be 120 characters or fewer"
    if len(phone) > 30:
        form.errors["phone"] = "Phone number must be 30 characters or fewer"
    category = form.data.get("sensitive_category") or None
    consent = None
    if category is not None:
        category = form.choice(
            "sensitive_category",
            _values(Involvement.SensitiveCategory),
            "Select the kind of sensitive service",
        )
        consent = form.choice(
            "consent_basis",
            _values(Involvement.ConsentBasis),
            "Select the basis on which you may record a sensitive service",
        )
    risk = None
    if form.data.get("notice_at_risk") == "yes":  # telling the family would put the child at risk
        risk = form.choice(
            "notice_risk",
            _values(FamilyNotice.Risk),
            "Select why telling the family would put the child at risk",
        )
    if form.errors or role is None:
        return None
    return Details(
        role=role,
        job_title=job_title,
        phone=phone,
        sensitive_category=category,
        consent_basis=consent,
        notice_risk=risk,
    )


@access_rule(Permission.CHILD_INVOLVEMENT_REGISTER)
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, cpid: str) -> HttpResponse:
    """Record that the user's organisation works with the child; the others are told."""
    actor = actor_of(request)
    try:
        child = openable(actor.principal, cpid)
    except NotFound:
        return not_found(request)
    if request.method != "POST":
        return HttpResponseRedirect(record_url(child))
    form = Reader(request.POST)
    details = read_details(form)
    if details is None:
        return _record_again(request, actor, child, form.errors)
    try:
        # Not in a transaction of the view's: a refusal's audit event must outlast it.
        involvements.register(actor, child, details)
    except Refused as refusal:
        return refused(request, str(refusal))
    except Invalid as invalid:
        return _record_again(request, actor, child, {"role": sentence(str(invalid))})
    except RegistrationLimit as limit:  # audited by the service
        again = _record_again(request, actor, child, {"role": sentence(str(limit))})
        if again.status_code == 400:
            again.status_code = 429
        return again
    notify(request, "Your involvement is registered. The services already involved are told.")
    return HttpResponseRedirect(record_url(child))


def _record_again(
    request: HttpRequest, actor: Actor, child: Child, errors: dict[str, str]
) -> HttpResponse:
    try:
        shown = record_for(actor.principal, child)
    except NotFound:
        return not_found(request)
    return render_record(request, actor, shown, errors, request.POST)


@access_rule(Permission.CHILD_EMERGENCY_ACCESS)
@step_up
@require_http_methods(["GET", "POST"])
def emergency_access(request: HttpRequest, cpid: str) -> HttpResponse:
    """See a child's contacts for a short time without an involvement; reviewed later."""
    actor = actor_of(request)
    try:
        child = openable(actor.principal, cpid)
        shown = record_for(actor.principal, child)
    except NotFound:
        return not_found(request)
    if shown.view is View.WITHHELD:
        return refused(request, "this record is shielded: contact the local index team")
    if shown.view is View.FULL:
        # Already involved (or already in emergency): nothing to open, nobody to alert.
        notify(request, "You can already see this child's contacts")
        return HttpResponseRedirect(record_url(child))
    if request.method != "POST":
        return _emergency_form(request, shown)
    form = Reader(request.POST)
    reason = form.choice(
        "reason", _values(EmergencyAccess.Reason), "Select why you need emergency access"
    )
    explanation = str(request.POST.get("explanation", ""))[:4000]
    if len(explanation.strip()) < emergency.MIN_EXPLANATION:
        form.errors["explanation"] = (
            f"Explain what is happening, in at least {emergency.MIN_EXPLANATION} characters"
        )
    if form.errors or reason is None:
        return _emergency_form(request, shown, form.errors)
    try:
        emergency.open_access(actor, child, reason, explanation)
    except Refused as refusal:
        return refused(request, str(refusal))
    except Invalid as invalid:
        return _emergency_form(request, shown, {"explanation": sentence(str(invalid))})
    # No banner of its own: the record's emergency banner says it is open, until when, and
    # that the privacy officer has been told (one banner, not two saying the same).
    return HttpResponseRedirect(record_url(child))


def _emergency_form(
    request: HttpRequest, shown: Record, errors: dict[str, str] | None = None
) -> HttpResponse:
    context = {
        **helpers(),
        "record": shown,
        "reasons": REASONS,
        "minimum": emergency.MIN_EXPLANATION,
        "minutes": emergency_minutes(),
        "errors": errors or {},
        "values": request.POST,
    }
    return page(request, "children/emergency.html", context, status=400 if errors else 200)
