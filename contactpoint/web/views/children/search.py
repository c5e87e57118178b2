"""Find a child: the search form, and its results at an address of their own.

The criteria are POSTed, never put in a URL (addresses end up in logs and histories). A
refused search shows the form again with what the user typed and a message at each field;
a search with no confident match answers on the same page, with what was typed, so it can
be corrected.

A search that finds children is POST-redirect-GET: the children found (their IDs only,
never a name or a criterion) are kept in the user's server-side session under an opaque
token, and the browser is sent to /search/results/<token>. Back, reload and the record's
"Back to search results" link show them again from there, read afresh, without searching,
auditing or counting against the quota again. A token is the user's own (it lives in their
session) and lasts as long as finding a child lets its record open.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from contactpoint.access.permissions import Permission
from contactpoint.access.purposes import PURPOSES
from contactpoint.practice.record import FINDING_LASTS
from contactpoint.search import criteria as rules
from contactpoint.search import service
from contactpoint.web.access import access_rule
from contactpoint.web.pages import actor_of, page

QUOTA = (
    "You, or your organisation, have made as many searches as contactpoint allows in an "
    "hour or a day. "
    "Try again later, or ask your local index team if your work needs more."
)
RESULTS = "cp_results"  # the session key: token -> {"ids": [child id, ...], "at": seconds}
KEPT = 5  # result sets kept in a session, newest last


def asked_of(form: QueryDict) -> rules.Asked:
    """The search as the form asks it: the criteria's field names, the date in three boxes."""

    def typed(name: str) -> str:
        return str(form.get(name, ""))

    return rules.Asked(
        purpose=typed("purpose"),
        date_of_birth=rules.DayMonthYear(typed("dob-day"), typed("dob-month"), typed("dob-year")),
        family_name=typed("family_name"),
        given_name=typed("given_name"),
        postcode=typed("postcode"),
        nhs_number=typed("nhs_number"),
        upn=typed("upn"),
    )


def field_errors(refusal: rules.Refused, asked: rules.Asked) -> dict[str, str]:
    """The criteria's messages keyed by the id each error summary link goes to."""
    errors: dict[str, str] = {}
    for field, message in refusal.errors.items():
        if field == "date_of_birth":
            errors["dob-day"] = message  # a date input's error links to its day field
        elif field == "search":
            # What is missing: the family name first, then a given name or a postcode.
            has_family = bool(asked.family_name.strip())
            errors["given_name" if has_family else "family_name"] = message
        else:
            errors[field] = message
    return errors


@access_rule(Permission.CHILD_RECORDS_SEARCH)
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    context: dict[str, Any] = {
        "purposes": list(PURPOSES.items()),
        "values": request.POST,
        "errors": {},
        "result": None,
    }
    if request.method != "POST":
        return page(request, "children/search.html", context)
    asked = asked_of(request.POST)
    try:
        criteria = rules.check(asked, timezone.localdate())
    except rules.Refused as refusal:
        context["errors"] = field_errors(refusal, asked)
        return page(request, "children/search.html", context, status=400)
    try:
        result = service.search(actor.principal, criteria)
    except service.QuotaExceeded:
        context["quota"] = QUOTA
        return page(request, "children/search.html", context, status=429)
    if not result.candidates:
        context["result"] = result
        return page(request, "children/search.html", context)
    token = keep(request, [c.child_id for c in result.candidates])
    return HttpResponseRedirect(f"/search/results/{token}", status=303)


def keep(request: HttpRequest, child_ids: list[uuid.UUID]) -> str:
    """Keep a search's children in the session; the token that shows them again."""
    token = secrets.token_urlsafe(12)
    kept = live(request)
    kept[token] = {"ids": [str(c) for c in child_ids], "at": time.time()}
    request.session[RESULTS] = dict(list(kept.items())[-KEPT:])
    return token


def live(request: HttpRequest) -> dict[str, dict[str, Any]]:
    """The session's result sets that have not expired, oldest first."""
    kept: dict[str, dict[str, Any]] = dict(request.session.get(RESULTS, {}))
    oldest = time.time() - FINDING_LASTS.total_seconds()
    return {token: v for token, v in kept.items() if float(v.get("at", 0)) > oldest}


def results_with(request: HttpRequest, child_id: uuid.UUID) -> str | None:
    """The address of the newest results in this session that list the child, if any."""
    for token, kept in reversed(list(live(request).items())):
        if str(child_id) in kept["ids"]:
            return f"/search/results/{token}"
    return None


@access_rule(Permission.CHILD_RECORDS_SEARCH)
@require_GET
def results(request: HttpRequest, token: str) -> HttpResponse:
    """A search's results again: from the session, without searching again."""
    kept = live(request).get(token)
    if kept is None:
        context = {"expired": True, "purposes": list(PURPOSES.items()), "values": {}}
        return page(request, "children/search.html", context, status=404)
    candidates = service.again([uuid.UUID(c) for c in kept["ids"]])
    return page(request, "children/results.html", {"candidates": candidates})
