"""The API's URLs under /api/v1/, each declaring its rule like every other URL.

Ninja gives one URL per operation, each a dispatcher that picks the operation by method;
the operation's own function declares and enforces its rule (`contactpoint.api.rules`), so
the dispatcher declares `EACH_OPERATION`. The OpenAPI document holds no data: public.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, path

from contactpoint.api.api import api
from contactpoint.api.rules import PUBLIC

EACH_OPERATION = "each-operation"

# Ninja's own views: the OpenAPI document, and the root, which always answers 404 and is
# there so that Ninja can reverse its own path.
NINJA_VIEWS = {"openapi-json": PUBLIC, "api-root": PUBLIC}


def _declared(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    for pattern in patterns:
        assert isinstance(pattern, URLPattern)
        callback: Any = pattern.callback
        callback.access_rule = NINJA_VIEWS.get(pattern.name or "", EACH_OPERATION)
    return patterns


_patterns, _app_name, _namespace = api.urls
urlpatterns: list[URLPattern | URLResolver] = [
    path("", (_declared(_patterns), _app_name, _namespace)),
]
