"""Every view declares its access rule, and the declaration is what enforces it.

A rule is PUBLIC (shows no child data and no account), SIGNING_IN (the password is
accepted and the second factor is not yet given), or a `Permission` from the one
vocabulary, decided by `contactpoint.access.permissions.decide`. A test walks the URL map
and fails on any view without a rule.

Sensitive views also carry `@step_up`: the second factor must have been given in the last
few minutes, or the user is asked for it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from contactpoint.access.middleware import FACTOR_AT
from contactpoint.access.permissions import Permission, Principal, decide
from contactpoint.access.signin import PENDING
from contactpoint.audit.log import audit_refusal
from contactpoint.web import held

PUBLIC = "public"
SIGNING_IN = "signing-in"

V = TypeVar("V", bound=Callable[..., HttpResponse])


def principal_of(request: HttpRequest) -> Principal | None:
    return cast(Principal | None, getattr(request, "principal", None))


def _sign_in_first(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(
        "/sign-in?" + urlencode({"next": request.get_full_path()}, safe="/")
    )


def refused(request: HttpRequest, reason: str | None = None, status: int = 403) -> HttpResponse:
    """The page for a refusal a service made after the view's rule let the user in (another
    area's user, a shielded child's involvement): audited under the view's rule, like the
    rule's own refusals, then shown. It says what the user can do, never what exists."""
    principal = principal_of(request)
    if principal is not None:
        match = getattr(request, "resolver_match", None)
        rule = getattr(getattr(match, "func", None), "access_rule", "") or "page"
        audit_refusal(principal, rule, reason)
    return _refusal_page(request, reason, status)


def _refusal_page(request: HttpRequest, reason: str | None, status: int = 403) -> HttpResponse:
    return render(request, "errors/403.html", {"reason": reason}, status=status)


def _guard(rule: str, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    if rule == PUBLIC:
        return view

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if rule == SIGNING_IN:
            if PENDING not in request.session:
                return _sign_in_first(request)
            return view(request, *args, **kwargs)
        principal = principal_of(request)
        if principal is None:
            return _sign_in_first(request)
        if not principal.active:
            audit_refusal(principal, rule, "suspended")
            return render(request, "errors/suspended.html", status=403)
        decision = decide(principal, Permission(rule))
        if not decision:
            audit_refusal(principal, rule, decision.reason)
            return _refusal_page(request, decision.reason)
        return view(request, *args, **kwargs)

    return guarded


def access_rule(rule: str | Permission) -> Callable[[V], V]:
    """Declare and enforce who may use a view."""
    value = rule.value if isinstance(rule, Permission) else rule
    if value not in (PUBLIC, SIGNING_IN):
        Permission(value)  # a typo fails at import, not at request time

    def mark(view: V) -> V:
        guarded = _guard(value, view)
        guarded.access_rule = value  # type: ignore[attr-defined]
        return cast(V, guarded)

    return mark


def step_up(view: V) -> V:
    """Ask for the second factor again unless it was given in the last few minutes. A form
    posted meanwhile is held and replayed after the check (`contactpoint.web.held`)."""

    @wraps(view)
    def confirmed(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        given = float(request.session.get(FACTOR_AT, 0))
        if time.time() - given > settings.CONTACTPOINT_STEP_UP_SECONDS:
            if request.method == "POST":
                held.hold(request)
            return HttpResponseRedirect(
                "/sign-in/confirm?" + urlencode({"next": request.get_full_path()}, safe="/")
            )
        held.replay(request, given)
        return view(request, *args, **kwargs)

    confirmed.step_up = True  # type: ignore[attr-defined]
    return cast(V, confirmed)
