"""The URL map: each module's `urlpatterns`, then the API. Every view declares its rule."""

from django.urls import URLPattern, URLResolver, include, path

from contactpoint.web.views import (
    account,
    activation,
    children,
    errors,
    info,
    linkage,
    oversight,
    signin,
    start,
    status,
    users,
)

urlpatterns: list[URLPattern | URLResolver] = [
    path("", start.home, name="home"),
    *status.urlpatterns,
    *info.urlpatterns,
    *signin.urlpatterns,
    *activation.urlpatterns,
    *account.urlpatterns,
    *users.urlpatterns,
    *children.urlpatterns,
    *oversight.urlpatterns,
    *linkage.urlpatterns,
    path("api/v1/", include("contactpoint.api.urls")),
]

handler400 = errors.bad_request
handler403 = errors.forbidden
handler404 = errors.not_found
handler500 = errors.server_error
