"""The local index team's pages: users of its area, and its organisations' accreditation.

Every view declares its rule; the changes ask for the second factor again (`step_up`) and
call the services in `contactpoint.access.users`, which ask the decider themselves.
"""

from django.urls import URLPattern, path

from contactpoint.web.views.users import actions, organisations, pages

urlpatterns: list[URLPattern] = [
    path("users", pages.user_list, name="users"),
    path("users/new", pages.new_user, name="user-new"),
    path("users/<uuid:user_id>", pages.user_page, name="user"),
    path("users/<uuid:user_id>/enable", actions.enable_user, name="user-enable"),
    path("users/<uuid:user_id>/recertify", actions.recertify_user, name="user-recertify"),
    path("users/<uuid:user_id>/disable", actions.disable_user, name="user-disable"),
    path("users/<uuid:user_id>/role", actions.change_user_role, name="user-role"),
    path(
        "users/<uuid:user_id>/reset-password",
        actions.reset_user_password,
        name="user-reset-password",
    ),
    path("organisations", organisations.organisation_list, name="organisations"),
    path(
        "organisations/<str:code>/accreditation",
        organisations.accreditation,
        name="organisation-accreditation",
    ),
]
