"""`/activate/<token>`: a user sets their own password through the one-time link e-mailed
to them when their account was made or their password reset (contactpoint.access.activation).

Public: the link is the credential. A link that does not work (wrong, used or expired)
gets one page that says so, whichever it is. After the password is set the user signs
in, and sets up a second factor first if they have none.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_http_methods

from contactpoint.access import activation
from contactpoint.web.access import PUBLIC, access_rule

MISMATCH = "The passwords do not match"


@access_rule(PUBLIC)
@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = activation.pending(token)
    except activation.LinkRefused:
        return _refused(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        new = request.POST.get("new_password", "")[:1024]
        if new != request.POST.get("confirm_password", "")[:1024]:
            errors["confirm_password"] = MISMATCH
        else:
            try:
                activation.set_password(token, new)
            except activation.LinkRefused:
                return _refused(request)
            except ValidationError as exc:
                errors["new_password"] = " ".join(exc.messages)
        if not errors:
            return HttpResponseRedirect("/sign-in")
    context = {"errors": errors, "token": token, "purpose": link.purpose}
    return render(request, "signin/activate.html", context, status=400 if errors else 200)


def _refused(request: HttpRequest) -> HttpResponse:
    return render(request, "signin/link_refused.html", status=404)


urlpatterns: list[URLPattern] = [
    path("activate/<str:token>", activate, name="activate"),
]
