"""The practitioner's pages: find a child, the record, involvements, emergency access,
alerts, and the privacy officer's review of emergency access.

Every view declares its rule; the services in `contactpoint.practice` and
`contactpoint.search` decide the rest, and the record's rules decide what shows.
"""

from django.urls import URLPattern, path

from contactpoint.web.views.children import actions, alerts, record, reviews, search, shielding

urlpatterns: list[URLPattern] = [
    path("search", search.search, name="search"),
    path("children/<str:cpid>", record.record, name="child"),
    path("children/<str:cpid>/involvements", record.register, name="child-register"),
    path(
        "children/<str:cpid>/emergency-access",
        record.emergency_access,
        name="child-emergency-access",
    ),
    path("involvements/<uuid:pk>/confirm", actions.confirm, name="involvement-confirm"),
    path("involvements/<uuid:pk>/end", actions.end, name="involvement-end"),
    path("involvements/<uuid:pk>/lead", actions.lead, name="involvement-lead"),
    path("involvements/<uuid:pk>/caf", actions.caf, name="involvement-caf"),
    path(
        "involvements/<uuid:pk>/contact-request",
        actions.contact_request,
        name="involvement-contact-request",
    ),
    path("handovers/<uuid:pk>", actions.handover, name="handover"),
    path("contact-requests/<uuid:pk>", actions.answer_contact, name="contact-request"),
    path("alerts", alerts.alert_list, name="alerts"),
    path("emergency-access", reviews.review_list, name="emergency-access"),
    path("emergency-access/<uuid:access_id>", reviews.review, name="emergency-access-review"),
    path("shielding", shielding.queue, name="shielding"),
    path("children/<str:cpid>/shielding", shielding.ask, name="child-shielding"),
    path("shielding/<uuid:decision_id>", shielding.decide, name="shielding-decide"),
]
