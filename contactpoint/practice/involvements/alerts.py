"""Alerts: written in the service, and announced by e-mail with no child data at all.

An alert names the child, the involvement and the emergency access, request or handover
it is about; the alerts page shows it through the record's rules. The e-mail says only
that there is a new alert of a kind, and where to sign in.

What an alert is about is sealed (ADR 0010): `about` holds its kind, child, involvement
and the id of the emergency access, contact request or handover its kind names, as JSON
padded to ABOUT_SIZE bytes, sealed (AES-256-GCM, associated data naming table, column and
row) under a key derived from the index root key (`alert-about/v1`). Every alert row is
alike (recipient, `about`, `child_tag`, created_at, read_at): a thief cannot tell a
`shielded_joined` from a `joined`, nor which child, service or request a user was told
about. `child_tag` is the first 128 bits of HMAC-SHA256 of the child's id under another
derived key (`alert-child-tag/v1`), by which a child's alerts are found when what they
are about goes (`forget`): nothing cascades from a sealed id. The inbox opens the few
alerts it shows; no query selects alerts by kind or child but to delete them.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Mapping
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
from contactpoint.lib import crypto
from contactpoint.practice.involvements import handovers
from contactpoint.practice.models import Alert, ContactRequest, EmergencyAccess, Handover
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
TAG_KEY = "alert-child-tag/v1"
TAG_BYTES = 16
# The longest kind and three ids as JSON are 141 bytes.
ABOUT_SIZE = 144
# The kind whose alert names an emergency access, a contact request or a handover.
REFERS = {
    Alert.Kind.EMERGENCY_ACCESS: "emergency",
    Alert.Kind.CONTACT_REQUEST: "contact_request",
    Alert.Kind.HANDOVER: "handover",
}


@dataclass(frozen=True)
class About:
    """What an alert is about, opened: `ref_id` is the emergency access, contact request
    or handover its kind names (REFERS), None for the other kinds."""

    kind: str
    child_id: uuid.UUID | None
    involvement_id: uuid.UUID | None
    ref_id: uuid.UUID | None = None

    def refers_to(self, name: str) -> uuid.UUID | None:
        """The id of the `name` (a REFERS value) the alert is about, if any."""
        return self.ref_id if REFERS.get(Alert.Kind(self.kind)) == name else None


def child_tag(child_id: uuid.UUID | None) -> bytes:
    """The keyed tag naming the child (every alert has one: a child-less alert's names
    nothing a tag of a real child could equal)."""
    message = child_id.bytes if child_id is not None else b"none"
    return crypto.keyed_digest(derived_key(TAG_KEY), message)[:TAG_BYTES]


def seal_about(alert_id: uuid.UUID, about: About) -> bytes:
    ids = [str(i) if i else None for i in (about.child_id, about.involvement_id, about.ref_id)]
    document = json.dumps([about.kind, *ids], separators=(",", ":"))
    ad = associated_data(Alert, "about", alert_id)
    return seal_padded(derived_key(ABOUT_KEY), document, ABOUT_SIZE, ad, "about")


def about(alert: Alert) -> About:
    """The alert's kind, child, involvement and reference, opened."""
    ad = associated_data(Alert, "about", alert.pk)
    kind, *ids = json.loads(open_padded(derived_key(ABOUT_KEY), alert.about, ad))
    child, involvement, ref = [uuid.UUID(i) if i else None for i in [*ids, None][:3]]
    return About(kind, child, involvement, ref)


def raise_alert(recipients: Iterable[User], kind: Alert.Kind, **refs: Any) -> list[Alert]:
    """Write one alert per recipient (each once), and e-mail them after the commit.

    `refs` name what the alert is about (`child` or `child_id`, `involvement`, and the
    `emergency`, `contact_request` or `handover` its kind names): all sealed in `about`."""
    child = refs.get("child")
    child_id = child.pk if child is not None else refs.get("child_id")
    involvement = refs.get("involvement")
    ref = refs.get(REFERS.get(kind, ""))
    opened = About(
        str(kind),
        child_id,
        involvement.pk if involvement is not None else None,
        ref.pk if ref is not None else None,
    )
    tag = child_tag(child_id)
    unique = {u.pk: u for u in recipients}
    alerts = []
    for user in unique.values():
        alert = Alert(id=uuid.uuid4(), recipient=user, child_tag=tag)
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
    return Alert.objects.filter(recipient=user).order_by("-created_at")


def opened(shown: Iterable[Alert]) -> list[tuple[Alert, About]]:
    """Each alert with what it is about, opened, and the child, involvement, emergency
    access, request or handover it names fetched (one query each for all of them) and set
    on it; one removed since stays None."""
    rows = [(a, about(a)) for a in shown]
    refs = {name: {r for _, o in rows if (r := o.refers_to(name))} for name in REFERS.values()}
    handed = handovers.opened(Handover.objects.filter(pk__in=refs["handover"]))
    wanted = {o.involvement_id for _, o in rows if o.involvement_id is not None}
    wanted |= {i.pk for h in handed for i in (h.from_involvement, h.to_involvement) if i}
    joined = Involvement.objects.in_bulk(wanted)
    for h in handed:  # one object per involvement, for with_links to open once
        h.from_involvement = joined.get(h.from_involvement.pk) if h.from_involvement else None
        h.to_involvement = joined.get(h.to_involvement.pk) if h.to_involvement else None
    found: dict[str, Mapping[uuid.UUID, Any]] = {
        "handover": {h.pk: h for h in handed},
        "emergency": EmergencyAccess.objects.select_related("user", "organisation").in_bulk(
            refs["emergency"]
        ),
        "contact_request": ContactRequest.objects.select_related("requester__organisation").in_bulk(
            refs["contact_request"]
        ),
    }
    children = Child.objects.in_bulk({o.child_id for _, o in rows if o.child_id is not None})
    for alert, o in rows:
        alert.child = children.get(o.child_id) if o.child_id else None
        alert.involvement = joined.get(o.involvement_id) if o.involvement_id else None
        for name, by_id in found.items():
            if (ref := o.refers_to(name)) is not None:
                setattr(alert, name, by_id.get(ref))
    return rows


def forget(child_ids: Iterable[uuid.UUID], *, gone: Iterable[uuid.UUID] | None = None) -> int:
    """Delete these children's alerts about any of `gone` (involvements, emergency
    accesses, requests or handovers removed), or all of them when `gone` is None (the
    children's purge); returns how many. Alerts name what they are about only sealed, so
    nothing cascades: whatever deletes one of these calls this in the same transaction."""
    rows = Alert.objects.filter(child_tag__in=[child_tag(c) for c in set(child_ids)])
    if gone is None:
        deleted, _ = rows.delete()
        return deleted
    ids = set(gone)
    doomed = [a.pk for a in rows if ids & {(o := about(a)).involvement_id, o.ref_id}]
    deleted, _ = Alert.objects.filter(pk__in=doomed).delete()
    return deleted


def unread(user: User) -> int:
    return Alert.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user: User, alert_id: uuid.UUID) -> None:
    Alert.objects.filter(recipient=user, pk=alert_id, read_at__isnull=True).update(
        read_at=timezone.now()
    )
