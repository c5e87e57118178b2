"""The token endpoint: OAuth 2 client credentials (RFC 6749 sections 2.3.1, 4.4 and 5).

A client authenticates with HTTP Basic (preferred) or with `client_id` and `client_secret`
form fields, never both, and gets a bearer token that lives `TOKEN_SECONDS`. Every failure
to authenticate gives the same `invalid_client` answer, whatever went wrong. Each grant and
each refused one is audited first; when the audit log cannot be written, no token is issued
and the answer is 503 `temporarily_unavailable`.
"""

# No `from __future__ import annotations`: Ninja reads these signatures at import time,
# resolving names in the guarding decorator's module, so the annotations must be objects.

import base64
import binascii
from urllib.parse import unquote_plus

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Form, Router

from contactpoint.access import throttle
from contactpoint.access.clients import (
    TOKEN_SECONDS,
    InvalidClient,
    TooManyAttempts,
    issue_token,
)
from contactpoint.api.rules import PUBLIC, api_rule
from contactpoint.api.schemas import TokenAnswer, TokenProblem
from contactpoint.audit.log import AuditUnavailable

router = Router(tags=["oauth"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def problem(error: str, description: str, status: int) -> HttpResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    for name, value in NO_STORE.items():
        response[name] = value
    if error == "invalid_client":
        response["WWW-Authenticate"] = 'Basic realm="contactpoint"'
    return response


class BadRequest(Exception):
    pass


def _basic(request: HttpRequest) -> tuple[str, str] | None:
    """The client id and secret from an `Authorization: Basic` header, if there is one."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "basic":
        raise BadRequest("use HTTP Basic authentication for the client")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise BadRequest("the Authorization header is not valid Basic credentials") from error
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise BadRequest("the Authorization header is not valid Basic credentials")
    # RFC 6749 section 2.3.1: both parts are form-encoded before they are joined.
    return unquote_plus(client_id), unquote_plus(secret)


def _credentials(
    request: HttpRequest, client_id: str | None, client_secret: str | None
) -> tuple[str, str]:
    basic = _basic(request)
    in_form = client_id is not None or client_secret is not None
    if basic is not None and in_form:
        raise BadRequest("authenticate the client one way only")
    if basic is not None:
        return basic
    if not client_id or not client_secret:
        raise BadRequest("the client's credentials are missing")
    return client_id, client_secret


@router.post(
    "/token",
    auth=None,
    url_name="oauth_token",
    summary="Get a bearer token (OAuth 2 client credentials)",
    response={
        200: TokenAnswer,
        400: TokenProblem,
        401: TokenProblem,
        429: TokenProblem,
        503: TokenProblem,
    },
)
@api_rule(PUBLIC)
def token(
    request: HttpRequest,
    grant_type: Form[str | None] = None,
    client_id: Form[str | None] = None,
    client_secret: Form[str | None] = None,
) -> HttpResponse:
    """Trade the client's id and secret for a bearer token that lives ten minutes."""
    try:
        credentials = _credentials(request, client_id, client_secret)
    except BadRequest as error:
        return problem("invalid_request", str(error), 400)
    if not grant_type:
        return problem("invalid_request", "grant_type is missing", 400)
    if grant_type != "client_credentials":
        return problem("unsupported_grant_type", "only client_credentials is supported", 400)
    try:
        access_token, _ = issue_token(*credentials)
    except TooManyAttempts:
        response = problem("too_many_attempts", "too many failed attempts: try again later", 429)
        window = throttle.TOKEN_PER_CLIENT.window.total_seconds()
        response["Retry-After"] = str(int(window))
        return response
    except InvalidClient:
        return problem("invalid_client", "the client could not be authenticated", 401)
    except AuditUnavailable:
        # Fail-closed: no token that the audit log could not record.
        detail = "the grant cannot be recorded in the audit log just now: try again later"
        return problem("temporarily_unavailable", detail, 503)
    answer = {"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS}
    response = JsonResponse(answer)
    for name, value in NO_STORE.items():
        response[name] = value
    return response
