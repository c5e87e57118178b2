"""The privacy officer's review of their organisation's emergency accesses.

The list shows who, when, why and the explanation they gave, and the child only by its
contactpoint ID: judging the use needs no more. Recording an outcome asks for the second
factor again. Below the waiting ones, the history of the reviewed ones (who, when, the
outcome and who reviewed it; not the explanation, which the review has judged).
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from contactpoint.access.permissions import Permission
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.practice import emergency_refs
from contactpoint.practice.involvements import emergency
from contactpoint.practice.models import EmergencyAccess
from contactpoint.web.access import access_rule, refused, step_up
from contactpoint.web.pages import actor_of, notify, page, sentence
from contactpoint.web.views.children.common import helpers

REVIEW = Permission.ORGANISATION_EMERGENCY_ACCESS_REVIEW
LIST = "/emergency-access"


def _list(request: HttpRequest, actor: Actor, errors: dict[str, str] | None = None) -> HttpResponse:
    # Each access names its child only sealed: opened, and fetched, for the rows shown.
    pending = emergency_refs.with_children(emergency.to_review(actor))
    said = emergency.explanations_of(pending)
    waiting = [(access, said[access.pk]) for access in pending]
    reviewed = emergency_refs.with_children(emergency.reviewed(actor))
    context = {
        **helpers(),
        "waiting": waiting,
        "reviewed": reviewed,
        # The reason codes are sealed under each child's key: opened for all at once.
        "given": emergency.reasons_of([a for a, _ in waiting] + reviewed),
        "outcome_words": dict(EmergencyAccess.Outcome.choices),
        "reasons": dict(EmergencyAccess.Reason.choices),
        "outcomes": list(EmergencyAccess.Outcome.choices),
        "me": actor.principal.id,
        "now": timezone.now(),
        "errors": errors or {},
        "values": request.POST,
    }
    return page(request, "alerts/emergency_access.html", context, status=400 if errors else 200)


@access_rule(REVIEW)
@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    return _list(request, actor_of(request))


@access_rule(REVIEW)
@step_up
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, access_id: uuid.UUID) -> HttpResponse:
    """Record whether one emergency access was justified."""
    actor = actor_of(request)
    if request.method != "POST":
        return HttpResponseRedirect(LIST)
    outcome = str(request.POST.get("outcome", ""))
    field = f"outcome-{access_id}"
    if outcome not in EmergencyAccess.Outcome.values:
        return _list(request, actor, {field: "Select the outcome of your review"})
    try:
        emergency.review(actor, access_id, outcome)
    except Refused as refusal:
        return refused(request, str(refusal))
    except Invalid as invalid:
        return _list(request, actor, {field: sentence(str(invalid))})
    notify(request, "Your review is recorded")
    return HttpResponseRedirect(LIST)
