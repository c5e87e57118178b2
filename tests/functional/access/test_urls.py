"""Every URL declares its access rule, and so does every API operation behind a URL."""

from __future__ import annotations

from django.urls import URLPattern, get_resolver

from contactpoint.api.api import operations
from contactpoint.api.rules import PUBLIC as API_PUBLIC
from contactpoint.api.urls import EACH_OPERATION
from contactpoint.web.access import PUBLIC
from tests.support.urls import walk

# Public pages show no child data; each is listed here on purpose.
# A one-time link to set a password is public: the link is the credential.
PUBLIC_PAGES = {"home", "health", "sign-in", "sign-out", "forgotten-password", "activate"}
# The footer's pages about the service (contactpoint.web.views.info): no child data.
PUBLIC_PAGES |= {"help", "contact", "accessibility", "privacy"}
API = "api/v1/"
# The API's public URLs: its OpenAPI document, and the root Ninja reverses (always 404).
PUBLIC_API_URLS = {"openapi-json", "api-root"}
# The one public API operation: a client cannot hold a token before it has one.
PUBLIC_OPERATIONS = {("POST", "/oauth/token")}


def rule(pattern: URLPattern) -> str | None:
    return getattr(pattern.callback, "access_rule", None)


def test_every_url_declares_its_access_rule() -> None:
    undeclared = [route for route, p in walk(get_resolver().url_patterns) if not rule(p)]
    assert undeclared == []


def test_only_the_listed_pages_are_public() -> None:
    public = {
        p.name
        for route, p in walk(get_resolver().url_patterns)
        if rule(p) == PUBLIC and not route.startswith(API)
    }
    assert public == PUBLIC_PAGES


def test_the_walk_sees_every_route() -> None:
    names = {p.name for _, p in walk(get_resolver().url_patterns)}
    assert names >= PUBLIC_PAGES | PUBLIC_API_URLS


def test_every_api_operation_declares_its_access_rule() -> None:
    undeclared = [(op.method, op.path) for op in operations() if not op.rule]
    assert undeclared == []


def test_only_the_token_endpoint_is_a_public_api_operation() -> None:
    public = {(op.method, op.path) for op in operations() if op.rule == API_PUBLIC}
    assert public == PUBLIC_OPERATIONS


def test_every_api_url_leads_only_to_operations_that_declare_their_rule() -> None:
    api_urls = [
        (route, p) for route, p in walk(get_resolver().url_patterns) if route.startswith(API)
    ]
    public = {p.name for _, p in api_urls if rule(p) == API_PUBLIC}
    dispatchers = {p.name for _, p in api_urls if rule(p) == EACH_OPERATION}
    assert public == PUBLIC_API_URLS
    assert dispatchers == {op.url_name for op in operations()}
    assert len(public) + len(dispatchers) == len({p.name for _, p in api_urls})


def test_the_api_walk_sees_every_operation() -> None:
    seen = {(op.method, op.path) for op in operations()}
    assert seen >= PUBLIC_OPERATIONS | {("GET", "/users"), ("POST", "/users")}
