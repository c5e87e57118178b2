"""Alerts: written in the service, and announced by e-mail with no child data at all.

An alert row points at the child and the involvement, emergency access, request or
handover it is about; the alerts page shows it through the record's rules. The e-mail
says only that there is a new alert of a kind, and where to sign in.

What an alert is about is sealed (ADR 0010): `about` holds its kind, child and involvement
as JSON padded to ABOUT_SIZE bytes, sealed (AES-256-GCM, associated data naming table,
column and row) under a key derived from the index root key (`alert-about/v1`), so every
alert's `about` has the same length and a thief cannot tell a `shielded_joined` from a
`joined`. A kind that says the child is shielded (UNNAMED) leaves the child and involvement
columns empty: they are only in `about`, so no row ties that child to the index team told.
The inbox opens the few alerts it shows; no query selects alerts by kind.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from contactpoint.access.models import User
from contactpoint.access.permissions import Role
from contactpoint.keystore.index_key import derived_key
from contactpoint.practice.models import Alert
from contactpoint.registry.cipher import associated_data, open_padded, seal_padded
from contactpoint.registry.involvement_facts import with_links
from contactpoint.registry.models import Child, Involvement

log = logging.getLogger(__name__)


def people_of(involvement: Involvement) -> list[User]:
    """Who to tell about an involvement: its named practitioner when they have an account,
    otherwise the organisation's practitioners (a school kept current by a feed)."""
    person = involvement.practitioner
    if person is not None and person.user_id is not None:
        named = list(User.objects.filter(pk=person.user_id, enabled=True))
        if named:
            return named
    return list(
        User.objects.filter(
            organisation_id=involvement.organisation_id,
            role=Role.PRACTITIONER.value,
            enabled=True,
        )
    )


def people_involved(involvements: Iterable[Involvement]) -> list[User]:
    """Everyone to tell about these involvements (people_of each)."""
    return [u for inv in with_links(involvements) for u in people_of(inv)]


def index_team_of(areas: Iterable[str]) -> list[User]:
    return list(
        User.objects.filter(
            organisation__council_area__code__in=list(areas),
            role=Role.INDEX_TEAM.value,
            enabled=True,
        )
    )


ABOUT_KEY = "alert-about/v1"
ABOUT_SIZE = 112  # the longest kind and two ids as JSON are 102 bytes
# Kinds whose row, in clear, would say that its child is shielded, or (a request to be put
# in touch, which goes only to a sensitive service) has a sensitive service, or (an
# emergency access, told to the user's privacy officers) had an emergency.
UNNAMED = frozenset(
    {
        Alert.Kind.SHIELDED_JOINED,
        Alert.Kind.SHIELDING_REVIEW_DUE,
        Alert.Kind.CONTACT_REQUEST,
        Alert.Kind.EMERGENCY_ACCESS,
    }
)


@dataclass(frozen=True)
class About:
    """What an alert is about, opened."""

    kind: str
    child_id: uuid.UUID | None
    involvement_id: uuid.UUID | None


def seal_about(alert_id: uuid.UUID, about: About) -> bytes:
    ids = [str(i) if i else None for i in (about.child_id, about.involvement_id)]
    document = json.dumps([about.kind, *ids], separators=(",", ":"))
    ad = associated_data(Alert, "about", alert_id)
    return seal_padded(derived_key(ABOUT_KEY), document, ABOUT_SIZE, ad, "about")


def about(alert: Alert) -> About:
    """The alert's kind, child and involvement, opened."""
    ad = associated_data(Alert, "about", alert.pk)
    kind, child, involvement = json.loads(open_padded(derived_key(ABOUT_KEY), alert.about, ad))
    return About(
        kind,
        uuid.UUID(child) if child else None,
        uuid.UUID(involvement) if involvement else None,
    )


def raise_alert(recipients: Iterable[User], kind: Alert.Kind, **refs: Any) -> list[Alert]:
    """Write one alert per recipient (each once), and e-mail them after the commit.

    `refs` are the alert's foreign keys (`child` or `child_id`, `involvement`, ...); for an
    UNNAMED kind the child and involvement go into the sealed `about` alone."""
    child = refs.pop("child", None)
    child_id = child.pk if child is not None else refs.pop("child_id", None)
    involvement = refs.pop("involvement", None)
    opened = About(str(kind), child_id, involvement.pk if involvement is not None else None)
    if kind not in UNNAMED:
        refs |= {"child_id": child_id, "involvement": involvement}
    unique = {u.pk: u for u in recipients}
    alerts = []
    for user in unique.values():
        alert = Alert(id=uuid.uuid4(), recipient=user, **refs)
        alert.about = seal_about(alert.pk, opened)
        alerts.append(alert)
    Alert.objects.bulk_create(alerts)
    emails = [u.email for u in unique.values()]
    transaction.on_commit(lambda: _mail(kind, emails))
    return alerts


def _mail(kind: Alert.Kind, emails: list[str]) -> None:
    subject = "You have a new alert in contactpoint"
    body = (
        f"You have a new alert in contactpoint: {Alert.Kind(kind).label.lower()}.\n\n"
        f"Sign in to read it: {settings.CONTACTPOINT_BASE_URL}/alerts\n\n"
        "This e-mail holds no details on purpose. Do not reply to it."
    )
    for email in emails:
        try:
            send_mail(subject, body, None, [email])
        except OSError:
            # The alert is in the service whatever happens to the mail.
            log.warning("alert e-mail could not be sent (kind %s)", kind)


def inbox(user: User) -> QuerySet[Alert]:
    return (
        Alert.objects.filter(recipient=user)
        .select_related(
            "child",
            "involvement",
            "emergency__user",
            "emergency__organisation",
            "contact_request__requester__organisation",
            "handover__to_involvement",
            "handover__from_involvement",
        )
        .order_by("-created_at")
    )


def opened(shown: Iterable[Alert]) -> list[tuple[Alert, About]]:
    """Each alert with what it is about, opened; an UNNAMED alert's child and involvement
    are fetched by the ids it sealed (one query each for all of them) and set on it."""
    rows = [(a, about(a)) for a in shown]
    unnamed = [(a, o) for a, o in rows if a.child_id is None and o.child_id is not None]
    if unnamed:
        children = Child.objects.in_bulk({o.child_id for _, o in unnamed})
        wanted = {o.involvement_id for _, o in unnamed if o.involvement_id is not None}
        joined = Involvement.objects.in_bulk(wanted)
        for alert, o in unnamed:
            alert.child = children.get(o.child_id)
            if o.involvement_id is not None:
                alert.involvement = joined.get(o.involvement_id)
    return rows


def unread(user: User) -> int:
    return Alert.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user: User, alert_id: uuid.UUID) -> None:
    Alert.objects.filter(recipient=user, pk=alert_id, read_at__isnull=True).update(
        read_at=timezone.now()
    )
