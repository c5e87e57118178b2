"""The privacy officer's workspace: the misuse alert queue and each alert's review, a
user's access history and suspending them, and a child's access history by the
organisation's users (contactpoint.oversight.workspace decides and audits each).
"""

from django.urls import URLPattern, path

from contactpoint.web.views.oversight import alerts, histories

urlpatterns: list[URLPattern] = [
    path("oversight", alerts.queue, name="oversight"),
    path("oversight/alerts/<uuid:alert_id>", alerts.alert, name="oversight-alert"),
    path("oversight/users/<uuid:user_id>", histories.user_history, name="oversight-user"),
    path(
        "oversight/users/<uuid:user_id>/suspend",
        histories.suspend,
        name="oversight-user-suspend",
    ),
    path("oversight/children", histories.child_history, name="oversight-child"),
]
