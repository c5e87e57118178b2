"""The pages every service has, linked from the footer: help, contact, the accessibility
statement and the privacy notice. Public, and about the service only: no child data."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from contactpoint.web.access import PUBLIC, access_rule

PAGES = ("help", "contact", "accessibility", "privacy")


def _page(name: str) -> Callable[[HttpRequest], HttpResponse]:
    @access_rule(PUBLIC)
    @require_GET
    def view(request: HttpRequest) -> HttpResponse:
        return render(request, f"info/{name}.html", {"errors": {}})

    view.__name__ = view.__qualname__ = name
    return view


urlpatterns: list[URLPattern] = [path(name, _page(name), name=name) for name in PAGES]
