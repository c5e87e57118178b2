"""The URL map: each module's `urlpatterns`, then the API. Every view declares its rule."""

from django.urls import URLPattern, URLResolver

from contactpoint.web.views import errors, status

urlpatterns: list[URLPattern | URLResolver] = [*status.urlpatterns]

handler400 = errors.bad_request
handler403 = errors.forbidden
handler404 = errors.not_found
handler500 = errors.server_error
