"""Every URL declares its access rule (issue 4 turns the rules into permissions)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from contactpoint.web.access import PUBLIC

# Public pages show no child data; each is listed here on purpose.
PUBLIC_PAGES = {"home", "health"}


def walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def test_every_url_declares_its_access_rule() -> None:
    undeclared = [
        route
        for route, p in walk(get_resolver().url_patterns)
        if not getattr(p.callback, "access_rule", None)
    ]
    assert undeclared == []


def test_only_the_listed_pages_are_public() -> None:
    public = {
        p.name
        for _, p in walk(get_resolver().url_patterns)
        if getattr(p.callback, "access_rule", None) == PUBLIC
    }
    assert public == PUBLIC_PAGES


def test_the_walk_sees_every_route() -> None:
    assert {p.name for _, p in walk(get_resolver().url_patterns)} >= PUBLIC_PAGES
