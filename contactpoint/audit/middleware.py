"""Give every request an id (in the audit events it writes and in its response), and answer
503 with nothing else when the audit log cannot be written (fail-closed)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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
