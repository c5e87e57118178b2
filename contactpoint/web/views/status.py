"""Service status: up, and able to audit (the readiness check). No child data."""

from __future__ import annotations

from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET

from contactpoint.audit import log as audit_log
from contactpoint.audit.log import AuditUnavailable
from contactpoint.web.access import PUBLIC, access_rule


@access_rule(PUBLIC)
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Readiness: both databases answer and the audit log can be written (every access
    writes to it first, so without it the service can show nothing). Public, so it says
    nothing about the registry."""
    try:
        for alias in ("default", "keys"):
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
        audit_log.writable()
    except (DatabaseError, AuditUnavailable):
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("health", health, name="health"),
]
