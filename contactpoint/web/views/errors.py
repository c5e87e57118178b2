"""Error pages: the same plain words for everyone, with nothing from the request in them."""

from __future__ import annotations

import sys

from django.contrib.auth.models import AnonymousUser
from django.db import InternalError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from contactpoint.access.middleware import principal_of_request, rule_of_request, unaudited
from contactpoint.audit import log as audit_log
from contactpoint.audit.log import AuditUnavailable

# PostgreSQL's read_only_sql_transaction (a read-only replica or default_transaction_read_only).
_READ_ONLY = "25006"
API_PREFIX = "/api/"
DATABASE_UNAVAILABLE = (
    "the database is busy or cannot be written just now, so nothing was done: try again "
    "in a few minutes"
)


def _anonymous_if_unknown(request: HttpRequest) -> None:
    # A request refused before the authentication middleware ran (a Host header the service
    # does not answer to) has no user yet: the page is drawn for nobody signed in.
    if not hasattr(request, "user"):
        request.user = AnonymousUser()


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if database_unavailable(exception):
        return unavailable(request)
    _anonymous_if_unknown(request)
    return render(request, "errors/400.html", status=400)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", {"reason": None}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc` says the database cannot answer or be written just now (locked past
    the wait, read-only, gone, a statement cut off), rather than a fault in the code."""
    # Followed through the exceptions it was raised from or while handling: a session that
    # could not be saved is reported as SessionInterrupted, raised over the DatabaseError.
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OperationalError):
            return True
        cause = getattr(exc, "__cause__", None)
        if isinstance(exc, InternalError) and getattr(cause, "sqlstate", None) == _READ_ONLY:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def unavailable(request: HttpRequest) -> HttpResponse:
    """503: the service's page, or JSON for the API (which callers retry)."""
    if request.path.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse({"detail": DATABASE_UNAVAILABLE}, status=503)
    else:
        _anonymous_if_unknown(request)
        response = render(request, "errors/503.html", {"database": True}, status=503)
    response["Retry-After"] = "60"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    _anonymous_if_unknown(request)
    # Django calls this for any exception nothing else answered, from a view or from a
    # middleware (a session saved on a read-only database): one place for both.
    if database_unavailable(sys.exc_info()[1]):
        return unavailable(request)
    return render(request, "errors/500.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form posted without this session's CSRF token: audited under whoever is signed in
    (a forged request rides on their session), with Django's reason and never the form."""
    _anonymous_if_unknown(request)
    entry = audit_log.entry(
        principal_of_request(request),
        "web:csrf:refused",
        audit_log.REFUSED,
        details={"rule": rule_of_request(request), "reason": reason[:200]},
    )
    try:
        audit_log.append(entry)
    except AuditUnavailable:
        return unaudited(request)
    return render(request, "errors/400.html", status=403)
