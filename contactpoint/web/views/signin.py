"""Signing in and out: password, then a second factor (TOTP or a security key), always.

A user without a second factor sets one up before anything else. `/sign-in/confirm` asks
a signed-in user for the second factor again before a sensitive action (`@step_up`).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from contactpoint.access import keys, signin, totp
from contactpoint.access.models import ResetRequest, TotpDevice, User
from contactpoint.access.permissions import Permission
from contactpoint.web.access import PUBLIC, SIGNING_IN, access_rule

WRONG = "Enter a correct e-mail address and password"
THROTTLED = "Too many attempts. Wait 15 minutes, then try again"
WRONG_CODE = "Enter the 6-digit code your authenticator app shows now"
EXPIRED_CODE = "That code has expired. Enter the code your authenticator app shows now"
USED_CODE = "That code has been used already. Wait for a new code, then enter it"
CODE_THROTTLED = "Too many wrong codes. Wait 15 minutes, then try again"
CODE_MESSAGES = {
    totp.Check.WRONG: WRONG_CODE,
    totp.Check.EXPIRED: EXPIRED_CODE,
    totp.Check.USED: USED_CODE,
}


def _next(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=False)
    return target if safe and target.startswith("/") else default


@access_rule(PUBLIC)
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return HttpResponseRedirect(_next(request))
    context: dict[str, Any] = {"next": _next(request), "email": "", "errors": {}}
    if request.method == "GET":
        return render(request, "signin/sign_in.html", context)
    started = time.monotonic()
    email = request.POST.get("email", "")[:254]
    result = signin.check_password(request, email, request.POST.get("password", "")[:1024])
    signin.pad(started)
    if result.user is None:
        context["email"] = email
        context["errors"] = {"email": THROTTLED if result.throttled else WRONG}
        return render(
            request, "signin/sign_in.html", context, status=429 if result.throttled else 200
        )
    signin.begin(request, result.user)
    step = "second-factor" if signin.has_second_factor(result.user) else "set-up"
    return HttpResponseRedirect(
        f"/sign-in/{step}?" + urlencode({"next": context["next"]}, safe="/")
    )


def _finish(request: HttpRequest, user: User) -> HttpResponse:
    reasons = signin.complete(request, user)
    if reasons:
        never = not user.enabled and user.certified_on is None  # a new account, not suspended
        context = {"reasons": reasons, "never_enabled": never}
        return render(request, "errors/suspended.html", context, status=403)
    return HttpResponseRedirect(_next(request))


@access_rule(SIGNING_IN)
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    user = signin.pending_user(request)
    if user is None:
        return HttpResponseRedirect("/sign-in")
    if not signin.has_second_factor(user):
        return HttpResponseRedirect("/sign-in/set-up")
    context = _factor_context(request, user)
    if request.method == "POST":
        error = _check_code(user, request.POST.get("code", ""), signin.SIGN_IN_STAGE)
        if error is None:
            return _finish(request, user)
        context["errors"] = {"code": error}
        return render(
            request, "signin/second_factor.html", context, status=_status_of(context["errors"])
        )
    return render(request, "signin/second_factor.html", context)


def _factor_context(request: HttpRequest, user: User) -> dict[str, Any]:
    return {
        "next": _next(request),
        "errors": {},
        "has_app": user.totp_devices.filter(confirmed=True).exists(),
        "has_key": user.security_keys.exists(),
    }


def _status_of(errors: dict[str, str]) -> int:
    """429 when the code was not checked because the user's attempts are held, else 200:
    a held attempt answers the same on every page that asks for a code."""
    return 429 if errors.get("code") == CODE_THROTTLED else 200


def _check_code(user: User, code: str, stage: str, device: TotpDevice | None = None) -> str | None:
    """None when the code is right (for `device`, or any confirmed one); else the message."""
    result = signin.check_code(user, code, stage, device)
    if result is None:
        return CODE_THROTTLED
    return CODE_MESSAGES.get(result)


@access_rule(SIGNING_IN)
@require_http_methods(["GET", "POST"])
def set_up(request: HttpRequest) -> HttpResponse:
    """First sign-in: add an authenticator app (or a security key) before anything else."""
    user = signin.pending_user(request)
    if user is None:
        return HttpResponseRedirect("/sign-in")
    if signin.has_second_factor(user):
        return HttpResponseRedirect("/sign-in/second-factor")
    device = user.totp_devices.filter(confirmed=False).order_by("-created_at").first()
    if device is None:
        device, _ = totp.start(user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        error = _check_code(user, request.POST.get("code", ""), signin.SET_UP_STAGE, device)
        if error is None:
            TotpDevice.objects.filter(user=user, confirmed=False).delete()
            return _finish(request, user)
        errors = {"code": error}
    context = _set_up_context(request, user, device, errors)
    return render(request, "signin/set_up.html", context, status=_status_of(errors))


def _set_up_context(
    request: HttpRequest, user: User, device: TotpDevice, errors: dict[str, str]
) -> dict[str, Any]:
    secret = totp.secret_of(device)
    uri = totp.provisioning_uri(user, secret)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return {
        "qr": totp.qr_svg_data_uri(uri),
        "secret": grouped,
        "errors": errors,
        "next": _next(request),
    }


@access_rule(Permission.SELF_ACCOUNT_READ)
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    """Step-up: the second factor again, before a sensitive action."""
    user = request.user
    assert isinstance(user, User)
    context = _factor_context(request, user)
    if request.method == "POST":
        error = _check_code(user, request.POST.get("code", ""), signin.STEP_UP_STAGE)
        if error is None:
            signin.stepped_up(request)
            return HttpResponseRedirect(_next(request))
        context["errors"] = {"code": error}
    return render(request, "signin/confirm.html", context, status=_status_of(context["errors"]))


@access_rule(PUBLIC)
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)  # flushes the server-side session
    return render(request, "signin/signed_out.html")


@access_rule(PUBLIC)
@require_http_methods(["GET", "POST"])
def forgotten_password(request: HttpRequest) -> HttpResponse:
    """Ask the local index team to reset a password. Same answer, same time, for anyone."""
    if request.method == "GET":
        return render(request, "signin/forgotten.html", {"errors": {}})
    started = time.monotonic()
    email = request.POST.get("email", "").strip().lower()[:254]
    if "@" not in email:
        return render(
            request,
            "signin/forgotten.html",
            {"errors": {"email": "Enter your work e-mail address"}},
        )
    user = User.objects.filter(email=email).first()
    if user is not None and not ResetRequest.objects.filter(user=user, handled_at=None).exists():
        ResetRequest.objects.create(user=user)
    signin.pad(started)
    return render(request, "signin/forgotten_sent.html")


# WebAuthn: the browser asks for options, then posts the key's answer (JSON both ways).


@access_rule(SIGNING_IN)
@require_POST
def key_options(request: HttpRequest) -> HttpResponse:
    user = signin.pending_user(request)
    if user is None or not user.security_keys.exists():
        return JsonResponse({"error": "sign in with your password first"}, status=400)
    return HttpResponse(keys.authentication_options(request, user), content_type="application/json")


@access_rule(SIGNING_IN)
@require_POST
def key_verify(request: HttpRequest) -> HttpResponse:
    user = signin.pending_user(request)
    if user is None:
        return JsonResponse({"error": "sign in with your password first"}, status=400)
    if signin.code_throttled(user):
        signin.factor_throttled(user, signin.SIGN_IN_STAGE, signin.KEY)
        return JsonResponse({"error": CODE_THROTTLED}, status=429)
    try:
        keys.authenticate(request, user, keys.parse(request.body)[0])
    except keys.KeyRefused as exc:
        signin.factor_failed(user, signin.SIGN_IN_STAGE, signin.KEY)
        return JsonResponse({"error": str(exc)}, status=400)
    signin.factor_right(user, signin.SIGN_IN_STAGE, signin.KEY)
    reasons = signin.complete(request, user)
    if reasons:
        return JsonResponse(
            {"error": "your access is suspended", "redirect": "/sign-in"}, status=403
        )
    return JsonResponse({"redirect": _next(request)})


@access_rule(Permission.SELF_ACCOUNT_READ)
@require_POST
def confirm_key_options(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    return HttpResponse(keys.authentication_options(request, user), content_type="application/json")


@access_rule(Permission.SELF_ACCOUNT_READ)
@require_POST
def confirm_key_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if signin.code_throttled(user):
        signin.factor_throttled(user, signin.STEP_UP_STAGE, signin.KEY)
        return JsonResponse({"error": CODE_THROTTLED}, status=429)
    try:
        keys.authenticate(request, user, keys.parse(request.body)[0])
    except keys.KeyRefused as exc:
        signin.factor_failed(user, signin.STEP_UP_STAGE, signin.KEY)
        return JsonResponse({"error": str(exc)}, status=400)
    signin.factor_right(user, signin.STEP_UP_STAGE, signin.KEY)
    signin.stepped_up(request)
    return JsonResponse({"redirect": _next(request)})


urlpatterns = [
    path("sign-in", sign_in, name="sign-in"),
    path("sign-in/second-factor", second_factor, name="sign-in-second-factor"),
    path("sign-in/set-up", set_up, name="sign-in-set-up"),
    path("sign-in/confirm", confirm, name="sign-in-confirm"),
    path("sign-in/forgotten-password", forgotten_password, name="forgotten-password"),
    path("sign-in/key/options", key_options, name="sign-in-key-options"),
    path("sign-in/key/verify", key_verify, name="sign-in-key-verify"),
    path("sign-in/confirm/key/options", confirm_key_options, name="confirm-key-options"),
    path("sign-in/confirm/key/verify", confirm_key_verify, name="confirm-key-verify"),
    path("sign-out", sign_out, name="sign-out"),
]
