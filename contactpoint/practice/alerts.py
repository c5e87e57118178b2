"""Alerts: written in the service, and announced by e-mail with no child data at all.

An alert row points at the child and the involvement, emergency access, request or
handover it is about; the alerts page shows it through the record's rules. The e-mail
says only that there is a new alert of a kind, and where to sign in.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from contactpoint.access.models import User
from contactpoint.access.permissions import Role
from contactpoint.practice.models import Alert
from contactpoint.registry.involvement_facts import with_links
from contactpoint.registry.models import Involvement

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


def raise_alert(recipients: Iterable[User], kind: Alert.Kind, **about: Any) -> list[Alert]:
    """Write one alert per recipient (each once), and e-mail them after the commit."""
    unique = {u.pk: u for u in recipients}
    alerts = [Alert(recipient=u, kind=kind, **about) for u in unique.values()]
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


def unread(user: User) -> int:
    return Alert.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user: User, alert_id: uuid.UUID) -> None:
    Alert.objects.filter(recipient=user, pk=alert_id, read_at__isnull=True).update(
        read_at=timezone.now()
    )
