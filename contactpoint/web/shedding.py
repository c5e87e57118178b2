"""Load shedding: a serving process works on a bounded number of requests at once and
answers the next 503 at once, before any session, sign-in or database work."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from contactpoint import config

Handler = Callable[[HttpRequest], HttpResponse]

logger = logging.getLogger(__name__)

# Never shed: a load balancer that saw a busy process as down would move its load onto the
# others. The readiness check is cheap and not counted.
NEVER_SHED = frozenset({"/health"})
BUSY = "the service is busy just now, so nothing was done: try again in a few seconds"
RETRY_AFTER_SECONDS = 5


class LoadShedding:
    """Count the requests in progress in this process; over CONTACTPOINT_REQUESTS_IN_PROGRESS,
    answer 503 with `Retry-After` (the service's page, or the API's JSON problem) without
    touching the database. A shed request reads nothing, so it writes no audit event; it is
    counted in a log line that holds no part of the request."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.limit = config.requests_in_progress()
        self.in_progress = 0
        self.shed = 0
        self._lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in NEVER_SHED:
            return self.get_response(request)
        with self._lock:
            in_progress = self.in_progress
            busy = in_progress >= self.limit
            if busy:
                self.shed += 1
                shed = self.shed
            else:
                self.in_progress += 1
        if busy:
            logger.warning(
                "request shed: %d in progress, limit %d; %d shed by this process",
                in_progress,
                self.limit,
                shed,
            )
            return busy_response(request)
        try:
            return self.get_response(request)
        finally:
            with self._lock:
                self.in_progress -= 1


def busy_response(request: HttpRequest) -> HttpResponse:
    """503 for a shed request: nothing in it comes from the request."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": BUSY}, status=503)
    else:
        # Drawn for nobody signed in: the session is never read.
        request.user = AnonymousUser()
        response = render(request, "errors/503.html", {"busy": True}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
