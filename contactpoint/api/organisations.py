"""Organisations' accreditation: granted nationally, withdrawn by the area's index team too.

Organisations are not secret (their codes are public registers' codes), so one outside the
client's reach is refused with the decider's reason, not hidden as "not found".
"""

# No `from __future__ import annotations`: see contactpoint/api/oauth.py.

from django.http import Http404, HttpRequest
from ninja import Router

from contactpoint.access import users
from contactpoint.access.permissions import Permission
from contactpoint.api.rules import actor_of, api_rule
from contactpoint.api.schemas import AccreditationIn, AccreditationOut, Problem
from contactpoint.registry.models import Organisation

router = Router(tags=["organisations"])


@router.post(
    "/organisations/{code}/accreditation",
    response={
        200: AccreditationOut,
        400: Problem,
        401: Problem,
        403: Problem,
        404: Problem,
        415: Problem,
        422: Problem,
        429: Problem,
    },
    url_name="accreditation",
)
@api_rule(Permission.AREA_ORGANISATIONS_MANAGE)
def accredit(request: HttpRequest, code: str, change: AccreditationIn) -> AccreditationOut:
    """Record an organisation's accreditation, or its withdrawal, and its expiry."""
    organisation = Organisation.objects.select_related("council_area").filter(code=code).first()
    if organisation is None:
        raise Http404
    accreditation = users.accredit(
        actor_of(request), organisation, expires_on=change.expires_on, withdrawn=change.withdrawn
    )
    return AccreditationOut(
        organisation_code=organisation.code,
        status=accreditation.status,
        expires_on=accreditation.expires_on,
    )
