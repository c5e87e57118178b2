"""The review queue, an item and its decisions, and a decision with its undoing.

`contactpoint.linkage.review_web` decides who may see what (the area rule) and audits;
`review` and `corrections` make each decision with all their rules. An item or decision
outside the user's area is not found, and the refusal is audited. Every decision asks
for the second factor again when it is not recent, asks why, and redirects (POST,
redirect, GET) to where it leads with a banner; a refusal is shown in an error summary.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from contactpoint.audit.log import audit_refusal
from contactpoint.linkage import review_web
from contactpoint.linkage.models import LinkDecision, ReviewItem
from contactpoint.linkage.review import ItemView, ReviewError
from contactpoint.linkage.review_web import DECIDE, Decider, NotFound, WhyMissing
from contactpoint.web.access import access_rule, principal_of, step_up
from contactpoint.web.pages import actor_of, notify, page, sentence
from contactpoint.web.views.linkage import words

QUEUE = "/linkage/review"
WHY_HINT = (
    "In a sentence, what in the records decided it (for example, the same address and "
    "school). Refer to a child by contactpoint ID, not by name. At most 200 characters."
)


def _decider(request: HttpRequest) -> Decider:
    actor = actor_of(request)  # a signed-in user: the access rule let no one else in
    if actor.user is None:
        raise PermissionDenied
    return Decider(actor.principal, actor.user)


def _not_found(request: HttpRequest, refusal: NotFound) -> Http404:
    """Audit the refusal as the access rule audits its own, then answer not found."""
    principal = principal_of(request)
    if principal is not None:
        audit_refusal(principal, DECIDE.value, str(refusal))
    return Http404()


@access_rule(DECIDE)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """Open items of the user's area, oldest first, optionally of one reason."""
    reason = request.GET.get("reason") or None
    if reason not in (None, *ReviewItem.Reason.values):
        reason = None
    entries = review_web.queue(_decider(request).principal, reason)
    now = timezone.now()
    rows = [(e, words.age_words(now - e.created_at)) for e in entries]
    reasons = [("", "All reasons"), *((r, words.reason_words(r)) for r in ReviewItem.Reason)]
    context = {"rows": rows, "reason": reason or "", "reasons": reasons, **_helpers()}
    return page(request, "linkage/queue.html", context)


def _helpers() -> dict[str, Any]:
    return {"reason_words": words.reason_words, "fields": words.FIELDS}


def _show(
    request: HttpRequest,
    item_id: uuid.UUID,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        view = review_web.show(_decider(request).principal, item_id)
    except NotFound as refusal:
        raise _not_found(request, refusal) from None
    context = {
        **_helpers(),
        "view": view,
        "columns": _columns(view),
        "waterfalls": [(c, words.waterfall(c)) for c in view.candidates if not c.protected],
        "decisions": _decision_options(view),
        "mergeable": [(str(c.number), f"{c.number}: {c.cpid}") for c in _decidable(view)],
        "bar_width": words.BAR_WIDTH,
        "why_hint": WHY_HINT,
        "errors": errors or {},
        "values": request.POST if errors else {},
    }
    return page(request, "linkage/item.html", context, status=400 if errors else status)


def _decidable(view: ItemView) -> list[Any]:
    return [c for c in view.candidates if not c.protected]


def _columns(view: ItemView) -> list[list[str]]:
    """Rows of the side-by-side table: the field, the waiting record's value, each candidate's."""
    waiting = words.waiting_values(view.record)
    each = [words.golden_values(c.golden) for c in view.candidates]
    return [
        [label, waiting[i], *(values[i] for values in each)] for i, label in enumerate(words.FIELDS)
    ]


def _decision_options(view: ItemView) -> list[tuple[str, str]]:
    options: list[tuple[str, str]] = []
    for c in _decidable(view):
        options.append((f"link-{c.number}", f"Link the record to candidate {c.number} ({c.cpid})"))
        if not c.ruled_out:
            options.append((f"not-a-match-{c.number}", f"Candidate {c.number} is not a match"))
    options.append(("new-child", "None of them: make a new child of the record"))
    return options


@access_rule(DECIDE)
@require_http_methods(["GET", "POST"])
def item(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    """One item; a POST records a decision (after the second factor again)."""
    if request.method == "POST":
        return _decide(request, item_id)
    return _show(request, item_id)


def _choice(text: str) -> tuple[str, int]:
    """A decision radio's value: ("link", 2), ("not-a-match", 1) or ("new-child", 0)."""
    if text == "new-child":
        return text, 0
    action, _, number = text.rpartition("-")
    if action not in ("link", "not-a-match") or not number.isdigit():
        raise ReviewError("select what you decide")
    return action, int(number)


@step_up
def _decide(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    decider = _decider(request)
    why = str(request.POST.get("why", ""))[:2000]
    try:
        action, number = _choice(str(request.POST.get("decision", "")))
        if action == "link":
            review_web.link(decider, item_id, number, why)
            notify(request, f"The record is linked to candidate {number}")
            return HttpResponseRedirect(QUEUE)
        if action == "not-a-match":
            review_web.not_a_match(decider, item_id, number, why)
            notify(request, f"Candidate {number} is marked not a match; the item stays open")
            return HttpResponseRedirect(f"{QUEUE}/{item_id}")
        decision = review_web.new_child(decider, item_id, why)
        notify(request, "A new child is made of the record")
        return HttpResponseRedirect(f"/linkage/decisions/{decision.pk}")
    except NotFound as refusal:
        raise _not_found(request, refusal) from None
    except WhyMissing as missing:
        return _show(request, item_id, {"why": sentence(str(missing))})
    except ReviewError as refusal:
        return _show(request, item_id, {"decision": sentence(str(refusal))})


def _number(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


@access_rule(DECIDE)
@require_http_methods(["GET", "POST"])
def merge(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    """Two of the item's candidates are one child: confirm, then merge GONE into KEEP. A GET
    (back from giving the second factor again) leads to the item, to choose again."""
    if request.method == "POST":
        return _merge(request, item_id)
    return HttpResponseRedirect(f"{QUEUE}/{item_id}")


@step_up
def _merge(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    decider = _decider(request)
    keep, gone = _number(request.POST.get("keep")), _number(request.POST.get("gone"))
    try:
        kept, merged = review_web.merge_pair(decider.principal, item_id, keep, gone)
        if request.POST.get("confirmed") != "yes":
            return _confirm_merge(request, item_id, keep, gone, (kept.cpid, merged.cpid))
        decision = review_web.merge(decider, item_id, keep, gone, str(request.POST.get("why", "")))
    except NotFound as refusal:
        raise _not_found(request, refusal) from None
    except WhyMissing as missing:
        cpids = (request.POST.get("keep_cpid", ""), request.POST.get("gone_cpid", ""))
        errors = {"why": sentence(str(missing))}
        return _confirm_merge(request, item_id, keep, gone, cpids, errors)
    except ReviewError as refusal:
        return _show(request, item_id, {"keep": sentence(str(refusal))})
    notify(request, f"Merged: {len(decision.moved)} record(s) moved to {kept.cpid}")
    return HttpResponseRedirect(f"/linkage/decisions/{decision.pk}")


def _confirm_merge(
    request: HttpRequest,
    item_id: uuid.UUID,
    keep: int,
    gone: int,
    cpids: tuple[str, str],
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    context = {
        "item_id": item_id,
        "keep": keep,
        "gone": gone,
        "keep_cpid": cpids[0],
        "gone_cpid": cpids[1],
        "why_hint": WHY_HINT,
        "errors": errors or {},
        "values": request.POST,
    }
    return page(request, "linkage/merge.html", context, status=400 if errors else 200)


def _decision_view(request: HttpRequest, decision_id: uuid.UUID) -> review_web.DecisionView:
    try:
        return review_web.decision(_decider(request), decision_id)
    except NotFound as refusal:
        raise _not_found(request, refusal) from None


@access_rule(DECIDE)
@require_GET
def decision(request: HttpRequest, decision_id: uuid.UUID) -> HttpResponse:
    """A decision: what, about which children (by contactpoint ID), who, when and why."""
    view = _decision_view(request, decision_id)
    actions = dict(LinkDecision.Action.choices)
    return page(request, "linkage/decision.html", {"view": view, "actions": actions})


@access_rule(DECIDE)
@require_http_methods(["GET", "POST"])
def unmerge(request: HttpRequest, decision_id: uuid.UUID) -> HttpResponse:
    """Confirm, then undo a merge: the records it moved go back."""
    if request.method == "POST":
        return _unmerge(request, decision_id)
    view = _decision_view(request, decision_id)
    if not view.may_unmerge:
        return HttpResponseRedirect(f"/linkage/decisions/{decision_id}")
    return _unmerge_page(request, view)


def _unmerge_page(
    request: HttpRequest, view: review_web.DecisionView, errors: dict[str, str] | None = None
) -> HttpResponse:
    context = {"view": view, "why_hint": WHY_HINT, "errors": errors or {}, "values": request.POST}
    return page(request, "linkage/unmerge.html", context, status=400 if errors else 200)


@step_up
def _unmerge(request: HttpRequest, decision_id: uuid.UUID) -> HttpResponse:
    decider = _decider(request)
    try:
        undone = review_web.unmerge(decider, decision_id, str(request.POST.get("why", "")))
    except NotFound as refusal:
        raise _not_found(request, refusal) from None
    except WhyMissing as missing:
        view = _decision_view(request, decision_id)
        return _unmerge_page(request, view, {"why": sentence(str(missing))})
    except ReviewError as refusal:
        view = _decision_view(request, decision_id)
        return _unmerge_page(request, view, {"why": sentence(str(refusal))})
    notify(request, f"Unmerged: {len(undone.moved)} record(s) moved back")
    return HttpResponseRedirect(f"/linkage/decisions/{undone.pk}")
