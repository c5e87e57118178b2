"""The misuse alert queue and one alert with its review.

The alert names the user and shows its evidence by contactpoint ID only: judging whether
an access was part of someone's work needs the pattern, not the child's name, and the
officer can look further at the user's and each child's access history. Recording an
outcome asks for the second factor again.
"""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET, require_http_methods

from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.oversight import workspace
from contactpoint.oversight.models import MisuseAlert
from contactpoint.web.access import access_rule, refused, step_up
from contactpoint.web.pages import actor_of, notify, page, sentence
from contactpoint.web.views.children.common import when
from contactpoint.web.views.oversight import words

REVIEW = workspace.REVIEW
QUEUE = "/oversight"


@access_rule(REVIEW)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The alerts waiting for review, oldest first, then those reviewed lately."""
    found = workspace.queue(actor_of(request))
    context = {
        **words.helpers(),
        "when": when,
        "waiting": found.waiting,
        "reviewed": found.reviewed,
        "outcomes": dict(MisuseAlert.Outcome.choices),
    }
    return page(request, "oversight/queue.html", context)


def _show(
    request: HttpRequest, actor: Actor, alert_id: uuid.UUID, errors: dict[str, str] | None = None
) -> HttpResponse:
    try:
        detail = workspace.alert(actor, alert_id)
    except workspace.NotFound:
        raise Http404 from None
    context = {
        **words.helpers(),
        "when": when,
        "detail": detail,
        "outcomes": list(MisuseAlert.Outcome.choices),
        "outcome_labels": dict(MisuseAlert.Outcome.choices),
        "about_me": actor.user is not None and detail.alert.principal == f"user:{actor.user.pk}",
        "errors": errors or {},
        "values": request.POST if errors else {},
    }
    return page(request, "oversight/alert.html", context, status=400 if errors else 200)


@access_rule(REVIEW)
@require_http_methods(["GET", "POST"])
def alert(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    """One alert; a POST records the review (after the second factor again)."""
    if request.method == "POST":
        return _review(request, alert_id)
    return _show(request, actor_of(request), alert_id)


@step_up
def _review(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    outcome = str(request.POST.get("outcome", ""))
    note = str(request.POST.get("note", ""))[:10_000]
    errors: dict[str, str] = {}
    if outcome not in MisuseAlert.Outcome.values:
        errors["outcome"] = "Select the outcome of your review"
    try:
        workspace.checked_text(note, "note")
    except Invalid as invalid:
        errors["note"] = sentence(str(invalid))
    if errors:
        return _show(request, actor, alert_id, errors)
    try:
        workspace.review(actor, alert_id, outcome, note)
    except workspace.NotFound:
        raise Http404 from None
    except Refused as refusal:
        return refused(request, str(refusal))
    except Invalid as invalid:
        return _show(request, actor, alert_id, {"outcome": sentence(str(invalid))})
    notify(request, "Your review is recorded")
    return HttpResponseRedirect(QUEUE)
