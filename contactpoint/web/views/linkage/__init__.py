"""The linkage review queue on the web: the local index team's pages (docs/review.md).

`/linkage/review` is the queue of the team's area; `/linkage/review/<id>` an item, its
waiting record beside each candidate and each candidate's waterfall, where a POST links,
marks not a match or makes a new child; `/linkage/review/<id>/merge` asks to confirm, then
merges two candidates; `/linkage/decisions/<id>` shows a decision (where each decision
leads), and `/linkage/decisions/<id>/unmerge` undoes a merge, after confirming.
"""

from django.urls import URLPattern, path

from contactpoint.web.views.linkage import review

urlpatterns: list[URLPattern] = [
    path("linkage/review", review.queue, name="linkage-review"),
    path("linkage/review/<uuid:item_id>", review.item, name="linkage-review-item"),
    path("linkage/review/<uuid:item_id>/merge", review.merge, name="linkage-review-merge"),
    path("linkage/decisions/<uuid:decision_id>", review.decision, name="linkage-decision"),
    path(
        "linkage/decisions/<uuid:decision_id>/unmerge",
        review.unmerge,
        name="linkage-decision-unmerge",
    ),
]
