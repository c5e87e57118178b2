"""The signed-in user's own account: details, standing, password, second factors and the
home postcode they declare for misuse detection."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contactpoint.access import keys, totp
from contactpoint.access.models import User
from contactpoint.access.permissions import GRANTS, Permission
from contactpoint.access.users import Invalid, change_own_password
from contactpoint.oversight import declarations
from contactpoint.web.access import access_rule, step_up
from contactpoint.web.pages import long_date
from contactpoint.web.words import described


def _me(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the access rule let only a signed-in user through
    return user


def _factor_count(user: User) -> int:
    return user.totp_devices.filter(confirmed=True).count() + user.security_keys.count()


@access_rule(Permission.SELF_ACCOUNT_READ)
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    apps = list(user.totp_devices.filter(confirmed=True).order_by("created_at"))
    keys_ = list(user.security_keys.order_by("created_at"))
    return render(
        request,
        "account/account.html",
        {
            "me": user,
            "permissions": described(GRANTS[user.role_enum]),
            "apps": apps,
            "keys": keys_,
            "can_remove": len(apps) + len(keys_) > 1,
            "home_postcode": declarations.home_postcode(user),
            "done": request.GET.get("done", ""),
            "long_date": long_date,
        },
    )


@access_rule(Permission.SELF_ACCOUNT_UPDATE)
@step_up
@require_http_methods(["GET", "POST"])
def password(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    if request.method == "POST":
        new = request.POST.get("new_password", "")[:1024]
        if new != request.POST.get("confirm_password", "")[:1024]:
            errors["confirm_password"] = "The new passwords do not match"  # noqa: S105
        else:
            try:
                change_own_password(
                    _me(request), request.POST.get("current_password", "")[:1024], new
                )
            except Invalid as exc:
                errors["current_password"] = str(exc).capitalize()
            except ValidationError as exc:
                errors["new_password"] = " ".join(exc.messages)
        if not errors:
            # Other sessions end with the old password's session hash; keep this one.
            update_session_auth_hash(request, _me(request))
            return HttpResponseRedirect("/account?done=password")
    return render(request, "account/password.html", {"errors": errors})


@access_rule(Permission.SELF_ACCOUNT_UPDATE)
@require_http_methods(["GET", "POST"])
def home_postcode(request: HttpRequest) -> HttpResponse:
    """Declare (or change) the user's home postcode, which misuse detection compares with
    the postcode of each child they look at."""
    user = _me(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        value = str(request.POST.get("postcode", ""))[:20]
        try:
            declarations.declare_home_postcode(user, value)
        except Invalid as exc:
            errors["postcode"] = str(exc)
        else:
            return HttpResponseRedirect("/account?done=postcode")
    else:
        value = declarations.home_postcode(user) or ""
    context = {"errors": errors, "value": value}
    return render(request, "account/home_postcode.html", context, status=400 if errors else 200)


@access_rule(Permission.SELF_SECOND_FACTOR_MANAGE)
@step_up
@require_http_methods(["GET", "POST"])
def add_app(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    device = user.totp_devices.filter(confirmed=False).order_by("-created_at").first()
    if device is None:
        device, _ = totp.start(user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if totp.verify(device, request.POST.get("code", "")[:16]):
            return HttpResponseRedirect("/account?done=app")
        errors["code"] = "Enter the 6-digit code your authenticator app shows now"
    secret = totp.secret_of(device)
    context: dict[str, Any] = {
        "qr": totp.qr_svg_data_uri(totp.provisioning_uri(user, secret)),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "errors": errors,
    }
    return render(request, "account/add_app.html", context)


@access_rule(Permission.SELF_SECOND_FACTOR_MANAGE)
@step_up
@require_GET
def add_key(request: HttpRequest) -> HttpResponse:
    return render(request, "account/add_key.html", {"errors": {}})


@access_rule(Permission.SELF_SECOND_FACTOR_MANAGE)
@step_up
@require_POST
def key_options(request: HttpRequest) -> HttpResponse:
    options = keys.registration_options(request, _me(request))
    return HttpResponse(options, content_type="application/json")


@access_rule(Permission.SELF_SECOND_FACTOR_MANAGE)
@step_up
@require_POST
def key_verify(request: HttpRequest) -> HttpResponse:
    try:
        credential, name = keys.parse(request.body)
        keys.register(request, _me(request), credential, name)
    except keys.KeyRefused as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"redirect": "/account?done=key"})


@access_rule(Permission.SELF_SECOND_FACTOR_MANAGE)
@step_up
@require_POST
def remove_factor(request: HttpRequest, kind: str, factor_id: int) -> HttpResponse:
    """Remove an authenticator app or key; the last second factor stays."""
    user = _me(request)
    factors = {"app": user.totp_devices.filter(confirmed=True), "key": user.security_keys.all()}
    if kind not in factors or not factors[kind].filter(pk=factor_id).exists():
        raise Http404
    if _factor_count(user) <= 1:
        return HttpResponseRedirect("/account?done=last")
    factors[kind].filter(pk=factor_id).delete()
    return HttpResponseRedirect("/account?done=removed")


urlpatterns = [
    path("account", account, name="account"),
    path("account/password", password, name="account-password"),
    path("account/home-postcode", home_postcode, name="account-home-postcode"),
    path("account/authenticator", add_app, name="account-add-app"),
    path("account/security-key", add_key, name="account-add-key"),
    path("account/security-key/options", key_options, name="account-key-options"),
    path("account/security-key/verify", key_verify, name="account-key-verify"),
    path(
        "account/factors/<str:kind>/<int:factor_id>/remove",
        remove_factor,
        name="account-remove-factor",
    ),
]
