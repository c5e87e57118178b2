"""Every API operation declares its access rule, and the declaration is what enforces it.

The API twin of `contactpoint.web.access`: `@api_rule(Permission.X)` marks the operation's
function with `access_rule`, writes the rule into the OpenAPI document (`x-access-rule`),
and refuses the call with 403 unless `decide` allows the calling client the permission.
`@api_rule(PUBLIC)` is for the token endpoint only. A test walks every operation and fails
on one without a rule.

Put `@api_rule` below the router's decorator, so that Ninja registers the guarded function.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja.operation import Operation
from ninja.utils import contribute_operation_callback

from contactpoint.access.clients import client_principal
from contactpoint.access.models import ApiClient
from contactpoint.access.permissions import Permission, decide
from contactpoint.access.users import Actor
from contactpoint.audit.log import audit_refusal

PUBLIC = "public"

F = TypeVar("F", bound=Callable[..., Any])


def client_of(request: HttpRequest) -> ApiClient:
    """The client the bearer token stands for (set by Ninja's authentication)."""
    client = getattr(request, "auth", None)
    if not isinstance(client, ApiClient):
        raise TypeError("the operation has no authenticated client")
    return client


def actor_of(request: HttpRequest) -> Actor:
    # No user to record as authoriser: the client is the actor.
    return Actor(client_principal(client_of(request)))


def refusal(reason: str, status: int = 403) -> HttpResponse:
    return JsonResponse({"detail": reason}, status=status)


def _guard(rule: str, operation: F) -> F:
    if rule == PUBLIC:
        return operation
    permission = Permission(rule)

    @wraps(operation)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        principal = client_principal(client_of(request))
        decision = decide(principal, permission)
        if not decision:
            audit_refusal(principal, rule, decision.reason)
            return refusal(decision.reason)
        return operation(request, *args, **kwargs)

    return cast(F, guarded)


def api_rule(rule: str | Permission) -> Callable[[F], F]:
    """Declare and enforce who may call an API operation."""
    value = rule.value if isinstance(rule, Permission) else rule
    if value != PUBLIC:
        Permission(value)  # a typo fails at import, not at request time

    def mark(operation: F) -> F:
        guarded = _guard(value, operation)
        guarded.access_rule = value  # type: ignore[attr-defined]
        contribute_operation_callback(guarded, _document(value))
        return guarded

    return mark


def _document(rule: str) -> Callable[[Operation], None]:
    def contribute(operation: Operation) -> None:
        operation.openapi_extra = {**(operation.openapi_extra or {}), "x-access-rule": rule}

    return contribute
