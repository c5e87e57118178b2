"""Shielding decided by two people: the local index team's pages (docs/shielding.md).

`/shielding` is the team's queue: requests of its area waiting for a second person, and
shieldings due for review. `/children/<cpid>/shielding` asks to shield a child or to stop
shielding it; `POST /shielding/<id>` approves, rejects, withdraws or keeps. Children show
by contactpoint ID only, and each action is on a child the user may open (found by a
search, or shielded and theirs to see): a guessed ID is not found, as everywhere else.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from contactpoint.access.permissions import Permission
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.practice import shielding
from contactpoint.practice.record import may_open, openable
from contactpoint.registry.lookup import NotFound
from contactpoint.registry.models import Child, ShieldingDecision
from contactpoint.web.access import access_rule, refused, step_up
from contactpoint.web.pages import actor_of, long_date, notify, page, sentence
from contactpoint.web.views.children.common import helpers, not_found
from contactpoint.web.views.users.forms import Reader, When

DECIDE = Permission.AREA_SHIELDING_DECIDE
QUEUE = "/shielding"
REVIEW_HINT = (
    f"Leave it empty for {shielding.REVIEW_MONTHS} months from today. "
    f"It must be within {shielding.LONGEST_MONTHS} months."
)


def _context(**more: Any) -> dict[str, Any]:
    return {
        **helpers(),
        "actions": dict(ShieldingDecision.Action.choices),
        "reasons": dict(ShieldingDecision.Reason.choices),
        "review_hint": REVIEW_HINT,
        **more,
    }


def _queue(
    request: HttpRequest, actor: Actor, errors: dict[str, str] | None = None
) -> HttpResponse:
    work = shielding.queue(actor)
    principal = actor.principal
    waiting = [(d, shielding.explanation_of(d), may_open(principal, d.child)) for d in work.waiting]
    context = _context(
        waiting=waiting,
        due=work.due,
        me=principal.id,
        errors=errors or {},
        values=request.POST,
    )
    return page(request, "children/shielding.html", context, status=400 if errors else 200)


@access_rule(DECIDE)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    return _queue(request, actor_of(request))


def _review_on(form: Reader, name: str) -> dt.date | None:
    """An optional date input: None when left empty (the service's default)."""
    if not any((form.data.get(f"{name}-{p}") or "").strip() for p in ("day", "month", "year")):
        return None
    return form.date(name, "The review date", When.FUTURE)


def _form(request: HttpRequest, child: Child, errors: dict[str, str] | None = None) -> HttpResponse:
    action = (
        ShieldingDecision.Action.UNSHIELD if child.shielded else ShieldingDecision.Action.SHIELD
    )
    in_force = shielding.current(child)
    context = _context(
        cpid=child.cpid,
        action=action,
        action_label=ShieldingDecision.Action(action).label,
        options=[(r, ShieldingDecision.Reason(r).label) for r in shielding.REASONS[action]],
        in_force=in_force,
        by_feed=shielding.shielded_by_feed(child),
        feed_flag=sentence(shielding.FEED_FLAG),
        waiting=shielding.open_request(child),
        minimum=shielding.MIN_EXPLANATION,
        errors=errors or {},
        values=request.POST if errors else QueryDict(),
    )
    status = 400 if errors else 200
    return page(request, "children/shielding_request.html", context, status=status)


@access_rule(DECIDE)
@step_up
@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest, cpid: str) -> HttpResponse:
    """Ask a second member of the team to shield the child, or to stop shielding it."""
    actor = actor_of(request)
    try:
        child = openable(actor.principal, cpid)
    except NotFound:
        return not_found(request)
    if not shielding.may_decide(actor.principal, child.pk):
        return refused(request, sentence(shielding.NOT_LOCAL))
    if request.method != "POST":
        return _form(request, child)
    action = shielding.Action.UNSHIELD if child.shielded else shielding.Action.SHIELD
    form = Reader(request.POST)
    options = {str(r): str(r) for r in shielding.REASONS[action]}
    reason = form.choice("reason", options, "Select the reason")
    explanation = str(request.POST.get("explanation", ""))[:4000]
    if len(explanation.strip()) < shielding.MIN_EXPLANATION:
        form.errors["explanation"] = (
            f"Explain the request in at least {shielding.MIN_EXPLANATION} characters"
        )
    review_on = _review_on(form, "review") if action == shielding.Action.SHIELD else None
    if form.errors or reason is None:
        return _form(request, child, form.errors)
    try:
        shielding.request(actor, child, action, reason, explanation, review_on)
    except Refused as refusal:
        return refused(request, sentence(str(refusal)))
    except Invalid as invalid:
        field = "review-day" if "review date" in str(invalid) else "explanation"
        return _form(request, child, {field: sentence(str(invalid))})
    notify(request, "Your request is recorded. Another member of your team must approve it.")
    return HttpResponseRedirect(QUEUE)


STEPS = {
    "approve": (shielding.approve, "You approved the request. The child's shielding has changed."),
    "reject": (shielding.reject, "You rejected the request. Nothing has changed for the child."),
    "withdraw": (shielding.withdraw, "You withdrew your request."),
}


@access_rule(DECIDE)
@step_up
@require_http_methods(["GET", "POST"])
def decide(request: HttpRequest, decision_id: uuid.UUID) -> HttpResponse:
    """Approve, reject or withdraw a request, or keep a shielding until a new review date."""
    actor = actor_of(request)
    if request.method != "POST":
        return HttpResponseRedirect(QUEUE)
    field = f"decision-{decision_id}"
    choice = str(request.POST.get("decision", ""))
    if choice not in (*STEPS, "keep"):
        return _queue(request, actor, {field: "Select what to do with the request"})
    decision = ShieldingDecision.objects.filter(pk=decision_id).first()
    if decision is None:
        return not_found(request)
    try:
        openable(actor.principal, decision.child.cpid)
    except NotFound:
        return not_found(request)
    form = Reader(request.POST, today=timezone.localdate())
    try:
        if choice == "keep":
            review_on = _review_on(form, f"review-{decision_id}")
            if form.errors:
                return _queue(request, actor, form.errors)
            kept = shielding.keep(actor, decision_id, review_on)
            message = f"Shielding is kept. Its next review is on {long_date(kept.review_on)}."
        else:
            step, message = STEPS[choice]
            step(actor, decision_id)
    except Refused as refusal:
        return refused(request, sentence(str(refusal)))
    except Invalid as invalid:
        return _queue(request, actor, {field: sentence(str(invalid))})
    notify(request, message)
    return HttpResponseRedirect(QUEUE)
