"""Give every request an id (in the audit events it writes and in its response), answer
503 with nothing else when the audit log cannot be written (fail-closed), and audit every
request a form or the API refused as invalid."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from contactpoint.access.permissions import Principal
from contactpoint.audit import log as audit_log
from contactpoint.audit.log import REQUEST_ID, AuditUnavailable

# An id a proxy in front already gave the request is kept when it looks like one.
_GIVEN = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestId:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _GIVEN.fullmatch(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            REQUEST_ID.reset(token)
        response["X-Request-ID"] = request_id
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, AuditUnavailable):
            return None
        # Nothing the view made is sent: it may hold what the log could not record.
        return render(request, "errors/503.html", status=503)


# What a page or the API answers a request it refuses as invalid: the form's checks (400),
# a body too large or of the wrong type (413, 415), the API's schemas (422).
INVALID = frozenset({400, 413, 415, 422})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def principal_of_request(request: HttpRequest) -> Principal | None:
    """Who made the request: the signed-in user, or the API client of its bearer token."""
    principal = getattr(request, "principal", None)
    if isinstance(principal, Principal):
        return principal
    from contactpoint.access.clients import client_principal
    from contactpoint.access.models import ApiClient

    client = getattr(request, "auth", None)
    return client_principal(client) if isinstance(client, ApiClient) else None


def rule_of_request(request: HttpRequest) -> str:
    """The access rule of the view or API operation the request reached."""
    match = getattr(request, "resolver_match", None)
    rule = getattr(getattr(match, "func", None), "access_rule", None)
    if rule is None and match is not None:
        from contactpoint.api.api import rule_of

        rule = rule_of(match.url_name or "", request.method or "")
    return str(rule or "page")


class InvalidRequests:
    """Audit a change a page or the API refused as invalid, under who asked and the rule of
    what they asked for, with the status only: never a submitted value (it may be a child's
    name, or a password typed in the wrong field)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        routed = getattr(request, "resolver_match", None) is not None
        if request.method in UNSAFE and response.status_code in INVALID and routed:
            rule = rule_of_request(request)
            entry = audit_log.entry(
                principal_of_request(request),
                "web:request:invalid",
                audit_log.REFUSED,
                details={"rule": rule, "status": response.status_code},
            )
            try:
                audit_log.append(entry)
            except AuditUnavailable:
                return unaudited(request)
        return response


def unaudited(request: HttpRequest) -> HttpResponse:
    """503: what a request gets when its audit event cannot be written."""
    if request.path.startswith("/api/"):
        detail = "the request cannot be recorded in the audit log just now: try again later"
        return JsonResponse({"detail": detail}, status=503)
    return render(request, "errors/503.html", status=503)
