"""Find a child: the search form, and its answer on the same page.

The criteria are POSTed, never put in a URL (addresses end up in logs and histories). A
refused search shows the form again with what the user typed and a message at each field;
a search with no confident match gives the service's one answer, whatever the reason.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from contactpoint.access.permissions import Permission
from contactpoint.search import criteria as rules
from contactpoint.search import service
from contactpoint.web.access import access_rule
from contactpoint.web.views.users.common import actor_of, page

QUOTA = (
    "You, or your organisation, have made as many searches as contactpoint allows in an "
    "hour or a day. "
    "Try again later, or ask your local index team if your work needs more."
)


def field_errors(refusal: rules.Refused, form: Any) -> dict[str, str]:
    """The service's messages keyed by the id each error summary link goes to."""
    errors: dict[str, str] = {}
    for field, message in refusal.errors.items():
        if field == "dob":
            errors["dob-day"] = message  # a date input's error links to its day field
        elif field == "search":
            # What is missing: the family name first, then a given name or a postcode.
            has_family = bool(str(form.get("family_name", "")).strip())
            errors["given_name" if has_family else "family_name"] = message
        else:
            errors[field] = message
    return errors


@access_rule(Permission.CHILD_RECORDS_SEARCH)
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    context: dict[str, Any] = {
        "purposes": list(rules.PURPOSES.items()),
        "values": request.POST,
        "errors": {},
        "result": None,
    }
    if request.method != "POST":
        return page(request, "children/search.html", context)
    try:
        asked = rules.parse(request.POST, timezone.localdate())
    except rules.Refused as refusal:
        context["errors"] = field_errors(refusal, request.POST)
        return page(request, "children/search.html", context, status=400)
    try:
        context["result"] = service.search(actor.principal, asked)
    except service.QuotaExceeded:
        context["quota"] = QUOTA
        return page(request, "children/search.html", context, status=429)
    return page(request, "children/search.html", context)
