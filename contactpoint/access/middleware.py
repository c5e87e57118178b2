"""Session lifetime, the request's principal, the security headers on every response, and
the audit of every request a form or the API refused as invalid."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from contactpoint.access.clients import client_principal
from contactpoint.access.models import ApiClient, User
from contactpoint.access.permissions import Principal
from contactpoint.audit import log as audit_log
from contactpoint.audit.log import AuditUnavailable

Handler = Callable[[HttpRequest], HttpResponse]

SIGNED_IN_AT = "cp_signed_in_at"
FACTOR_AT = "cp_factor_at"


class SessionLifetime:
    """End a session past its absolute lifetime; give the request its principal.

    The idle limit is the session's own expiry (SESSION_COOKIE_AGE, refreshed on every
    request, held server-side). Sessions of a disabled user, or one whose role changed, end
    through the session hash (`User.get_session_auth_hash`) before this runs.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.principal = None  # type: ignore[attr-defined]
        user = request.user
        if isinstance(user, User):
            started = float(request.session.get(SIGNED_IN_AT, 0))
            if time.time() - started > settings.CONTACTPOINT_SESSION_ABSOLUTE_SECONDS:
                logout(request)
            else:
                today = dt.date.today()
                principal = user.principal(second_factor=True, today=today)
                request.principal = principal  # type: ignore[attr-defined]
                if principal.active and user.last_active_on != today:
                    User.objects.filter(pk=user.pk).update(last_active_on=today)
        return self.get_response(request)


CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeaders:
    """Headers every response carries, whatever made it (a page, an error, the API), beyond
    those Django's SecurityMiddleware sets from settings (nosniff, Referrer-Policy,
    Cross-Origin-Opener-Policy) and XFrameOptionsMiddleware (X-Frame-Options)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        # Also set by the middleware further in, which a request refused early (a bad Host
        # header, refused in CommonMiddleware) never reaches.
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
        # Sent on plain HTTP too (browsers ignore it there), so no deployment forgets it.
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        # Nothing but static assets may be kept by a browser or proxy: pages may hold child
        # data and always hold someone's account.
        if not request.path.startswith(settings.STATIC_URL):
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response


# What a page or the API answers a request it refuses as invalid: the form's checks (400),
# a body too large or of the wrong type (413, 415), the API's schemas (422).
INVALID = frozenset({400, 413, 415, 422})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def principal_of_request(request: HttpRequest) -> Principal | None:
    """Who made the request: the signed-in user, or the API client of its bearer token."""
    principal = getattr(request, "principal", None)
    if isinstance(principal, Principal):
        return principal
    client = getattr(request, "auth", None)
    return client_principal(client) if isinstance(client, ApiClient) else None


def rule_of_request(request: HttpRequest) -> str:
    """The access rule of the view or API operation the request reached."""
    match = getattr(request, "resolver_match", None)
    rule = getattr(getattr(match, "func", None), "access_rule", None)
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
