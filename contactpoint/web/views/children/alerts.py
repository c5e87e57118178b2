"""The user's alerts: what happened, who it was, and what they can do about it.

An alert names a child (sealed: `alerts.opened` opens and fetches it); the child's name
shows only when this user may see the record in full (it comes from the record),
otherwise "a child" and its contactpoint ID.
Who joined, asked or took over is a service and its practitioner's work contacts, shown
as the involvement holds them, except a sensitive service, which only its own
organisation sees. Opening the page marks the alerts read.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from contactpoint.access.models import User
from contactpoint.access.permissions import Permission, Principal, decide
from contactpoint.practice.involvements import alerts
from contactpoint.practice.involvements.emergency import reasons_of
from contactpoint.practice.models import Alert, ContactRequest, EmergencyAccess, Handover
from contactpoint.practice.record import View, record_for, view_for
from contactpoint.registry.involvement_facts import facts_of, with_links
from contactpoint.registry.lookup import NotFound
from contactpoint.registry.models import Child, Involvement
from contactpoint.web.access import access_rule
from contactpoint.web.pages import actor_of, page
from contactpoint.web.views.children.common import full_name, helpers, record_url

SHOWN = 50  # the newest; older alerts stay in the service


@dataclass(frozen=True)
class Who:
    """A service and how to reach it (work contacts, not child data)."""

    organisation: str
    role: str = ""
    practitioner: str = ""
    job_title: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Row:
    id: uuid.UUID
    kind: str
    title: str
    at: dt.datetime
    unread: bool
    child: str  # the child's name, or "a child"
    cpid: str
    link: str | None  # the record, when the user may read records
    who: Who | None = None
    emergency: EmergencyAccess | None = None
    emergency_reason: str = ""  # its reason's words, opened
    review_link: bool = False
    handover: Handover | None = None  # only while it waits for this user
    contact_request: ContactRequest | None = None  # only while it waits for this user


def _who(involvement: Involvement | None, principal: Principal) -> Who | None:
    if involvement is None:
        return None
    facts = facts_of([involvement]).get(involvement.pk)
    if facts is None:  # the child's data key is gone: nothing of the involvement shows
        return Who("An additional service")
    if facts.sensitive and involvement.organisation_id != principal.organisation_id:
        return Who("An additional service")
    person = involvement.practitioner
    return Who(
        involvement.organisation.name,
        facts.role_label,
        person.name if person else "",
        person.job_title if person else "",
        person.phone if person else involvement.organisation.phone,
        person.email if person else involvement.organisation.email,
    )


def _requester(request: ContactRequest) -> Who:
    person: User = request.requester
    return Who(person.organisation.name, practitioner=person.name, email=person.email)


class Names:
    """The child's name from the record, for a child this user may see in full."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.reads = bool(decide(principal, Permission.CHILD_RECORD_READ))
        self.reviews = bool(decide(principal, Permission.ORGANISATION_EMERGENCY_ACCESS_REVIEW))
        self.known: dict[uuid.UUID, str] = {}
        self.shielded_from: dict[uuid.UUID, bool] = {}

    def of(self, child: Child) -> str:
        if child.pk not in self.known:
            self.known[child.pk] = self._look_up(child)
        return self.known[child.pk]

    def withheld(self, child: Child) -> bool:
        """A shielded child this user may not see: its alerts name no service or person
        (whoever they were when the alert was raised, the child is shielded now)."""
        if child.pk not in self.shielded_from:
            self.shielded_from[child.pk] = (
                child.shielded and view_for(self.principal, child) is View.WITHHELD
            )
        return self.shielded_from[child.pk]

    def _look_up(self, child: Child) -> str:
        if not self.reads or child.status != Child.Status.ACTIVE:
            return "a child"
        if view_for(self.principal, child) is not View.FULL:
            return "a child"
        try:
            return full_name(record_for(self.principal, child))
        except NotFound:
            return "a child"


def row(
    alert: Alert, kind: str, principal: Principal, names: Names, given: dict[uuid.UUID, str]
) -> Row:
    """One alert as shown; `given` holds the opened reason codes of its emergency access."""
    child = alert.child
    who = _who(alert.involvement, principal)
    if alert.handover is not None:  # who asks to take over the lead
        who = _who(alert.handover.to_involvement, principal)
    request = alert.contact_request
    if request is not None:  # who asks to be put in touch
        who = _requester(request)
    handover = alert.handover
    if child is not None and names.withheld(child):
        who, request, handover = None, None, None
    emergency = alert.emergency
    code = given.get(emergency.pk, "") if emergency is not None else ""
    return Row(
        id=alert.pk,
        kind=kind,
        title=Alert.Kind(kind).label,
        at=alert.created_at,
        unread=alert.read_at is None,
        child=names.of(child) if child else "a child",
        cpid=child.cpid if child else "",
        link=record_url(child) if child and names.reads else None,
        who=who,
        emergency=emergency,
        emergency_reason=str(EmergencyAccess.Reason(code).label) if code else "Not available",
        review_link=names.reviews and emergency is not None and emergency.reviewed_at is None,
        handover=handover if handover and handover.status == Handover.Status.PROPOSED else None,
        contact_request=request
        if request and request.status == ContactRequest.Status.OPEN
        else None,
    )


@access_rule(Permission.SELF_ALERTS_READ)
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    user = actor.user
    if user is None:  # actor_of gives a signed-in user
        raise PermissionDenied
    principal = actor.principal
    names = Names(principal)
    # What each is about is sealed, and so are the involvements' organisations and
    # practitioners: opened for all at once.
    inbox = alerts.opened(alerts.inbox(user)[:SHOWN])
    who = [a.involvement for a, _ in inbox]
    who += [a.handover.to_involvement for a, _ in inbox if a.handover is not None]
    with_links(i for i in who if i is not None)
    given = reasons_of(a.emergency for a, _ in inbox if a.emergency is not None)
    rows = [row(a, about.kind, principal, names, given) for a, about in inbox]
    for shown in rows:
        if shown.unread:
            alerts.mark_read(user, shown.id)
    return page(request, "alerts/list.html", {**helpers(), "rows": rows})
