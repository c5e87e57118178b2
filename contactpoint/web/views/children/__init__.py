"""The practitioner's pages: find a child, the record, involvements, emergency access,
alerts, and the privacy officer's review of emergency access.

Every view declares its rule; the services in `contactpoint.practice` and
`contactpoint.search` decide the rest, and the record's rules decide what shows.
"""

from django.urls import URLPattern, path

from contactpoint.web.views.children import (
    actions,
    alerts,
    families,
    record,
    requests,
    retention,
    reviews,
    search,
    shielding,
)

urlpatterns: list[URLPattern] = [
    path("search", search.search, name="search"),
    path("search/results/<str:token>", search.results, name="search-results"),
    path("children/<str:cpid>", record.record, name="child"),
    path("children/<str:cpid>/print", record.print_view, name="child-print"),
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
    path("children/<str:cpid>/statutory-access", retention.statutory_access),
    path("children/<str:cpid>/retention-extension", retention.retention_extension),
    path("children/<str:cpid>/subject-access", families.ask, name="child-subject-access"),
    path("subject-access/<uuid:pk>", families.report_page, name="subject-access"),
    path("subject-access/<uuid:pk>.pdf", families.report_pdf, name="subject-access-pdf"),
    path("subject-access/<uuid:pk>/release", families.release, name="subject-access-release"),
    path("children/<str:cpid>/rectification", requests.rectify, name="child-rectification"),
    path("rectification", requests.rectification_queue, name="rectification"),
    path("rectification/<uuid:pk>", requests.rectification_step, name="rectification-step"),
    path("family-notices", requests.notice_queue, name="family-notices"),
    path("family-notices/<uuid:pk>", requests.notice, name="family-notice"),
]
