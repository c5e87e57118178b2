"""The NinjaAPI: bearer authentication, the routers, and errors as JSON that names no one.

Only a bearer token from `POST /oauth/token` authenticates: a web session cookie does not,
so CSRF does not arise (Ninja checks CSRF only for cookie authentication). The interactive
docs page is off, since its scripts come from a CDN our Content-Security-Policy refuses;
the OpenAPI document is served as JSON.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from contactpoint.access.clients import authenticate_token, client_principal
from contactpoint.access.models import ApiClient
from contactpoint.access.users import Invalid, Refused
from contactpoint.api import children, oauth, organisations, users
from contactpoint.api.inputs import JsonOnly, UnsupportedMediaType
from contactpoint.audit.log import AuditUnavailable, audit_refusal

MAX_TOKEN_LENGTH = 100  # ours are 43 characters; do not hash anything much longer


class ClientBearer(HttpBearer):
    """`Authorization: Bearer <token>` from the token endpoint; nothing else."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiClient | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        return authenticate_token(token)


api = NinjaAPI(
    title="contactpoint",
    version="1",
    description="Accounts and the practitioner journey for case-management systems and "
    "source feeds. "
    "Get a token at /oauth/token (OAuth 2 client credentials); it lives ten minutes.",
    auth=ClientBearer(),
    docs_url=None,
    openapi_url="/openapi.json",
    urls_namespace="api-v1",
    parser=JsonOnly(),
)
# (prefix, router): each module's operations, mounted under /api/v1/.
MOUNTS = [
    ("/oauth", oauth.router),
    ("", users.router),
    ("", organisations.router),
    ("", children.router),
]
for prefix, router in MOUNTS:
    api.add_router(prefix, router)


@api.exception_handler(AuthenticationError)
def _not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request, {"detail": "a valid bearer token is needed"}, status=401
    )
    challenge = 'Bearer realm="contactpoint"'
    if request.headers.get("Authorization"):
        challenge += ', error="invalid_token"'
    response["WWW-Authenticate"] = challenge
    return response


@api.exception_handler(Refused)
def _refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    """A refusal a service made after the operation's rule let the client in: audited
    under that rule, like the rule's own refusals. The decider's reasons name roles and
    scopes, never a person or a child."""
    client = getattr(request, "auth", None)
    if isinstance(client, ApiClient):
        match = getattr(request, "resolver_match", None)
        rule = rule_of(getattr(match, "url_name", None) or "", request.method or "")
        try:
            audit_refusal(client_principal(client), rule, str(exc))
        except AuditUnavailable as unaudited:
            return _unaudited(request, unaudited)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Ninja's answer (400 for a body it cannot parse), but 415 for a body that is not
    sent as JSON: Ninja wraps whatever the parser raises in a 400."""
    if isinstance(exc.__cause__, UnsupportedMediaType):
        return api.create_response(request, {"detail": str(exc.__cause__)}, status=415)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(ValidationError)
def _malformed(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """A request the document does not allow: where and what, never the value sent."""
    problems = []
    for error in exc.errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body",))
        problems.append(f"{where}: {error.get('msg', 'is not valid')}")
    detail = "; ".join(problems) or "the request does not match the API's document"
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(AuditUnavailable)
def _unaudited(request: HttpRequest, exc: AuditUnavailable) -> HttpResponse:
    # Fail-closed: nothing is shown that the audit log could not record.
    detail = "the access cannot be recorded in the audit log just now, so nothing is shown"
    return api.create_response(request, {"detail": detail}, status=503)


@api.exception_handler(Invalid)
def _invalid(request: HttpRequest, exc: Invalid) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=422)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # under /api/v1, as in the OpenAPI document
    url_name: str
    rule: str | None  # None: the operation's function declares no rule


def operations() -> Iterator[Operation]:
    """Every operation of the API with the rule its function declares."""
    for prefix, router in MOUNTS:
        for path, view in router.path_operations.items():
            for op in view.operations:
                rule: Any = getattr(op.view_func, "access_rule", None)
                for method in op.methods:
                    yield Operation(method, prefix + path, getattr(op, "url_name", ""), rule)


@functools.cache
def _rules() -> dict[tuple[str, str], str]:
    return {(op.url_name, op.method): op.rule for op in operations() if op.rule}


def rule_of(url_name: str, method: str) -> str:
    """The access rule of the operation a request reached ("api" when none is known)."""
    return _rules().get((url_name, method), "api")
