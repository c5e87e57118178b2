"""Web form fields over their length, refused before the view does any work."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.shortcuts import render

from contactpoint.web import limits

Handler = Callable[[HttpRequest], HttpResponse]


class FormLimits:
    """Refuse (400) a request to a page whose query or posted fields are longer than the
    form could hold (contactpoint.web.limits), before its view runs. The API checks its
    own against its schemas."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            return None
        fields = [request.GET]
        if request.method == "POST":
            # The body is read whole first, so that a view reading it itself (the security
            # key endpoints take JSON) still can; Django's upload bound applies. A
            # multipart body already parsed (by the CSRF check) is in request.POST.
            with contextlib.suppress(RawPostDataException):
                _ = request.body
            fields.append(request.POST)
        for name, bound in limits.too_long(*fields):
            reason = f"The field “{name}” is longer than {bound} characters: shorten it"
            return render(request, "errors/400.html", {"reason": reason}, status=400)
        return None
