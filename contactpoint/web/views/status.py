"""Service status: up, and how many children the registry holds. No child data."""

from __future__ import annotations

from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET

from contactpoint.registry.models import Child, SourceRecord
from contactpoint.web.access import PUBLIC, access_rule


def _counts() -> dict[str, int]:
    return {
        "children": Child.objects.filter(status=Child.Status.ACTIVE).count(),
        "source_records": SourceRecord.objects.count(),
        "waiting_for_linkage": SourceRecord.objects.filter(status="pending").count(),
    }


@access_rule(PUBLIC)
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: both databases answer."""
    for alias in ("default", "keys"):
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", **_counts()})


urlpatterns = [
    path("health", health, name="health"),
]
