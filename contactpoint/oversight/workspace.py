"""The privacy officer's workspace: their organisation's misuse alerts and their review, a
user's access history, a child's access history, and suspending a user (docs/oversight.md).

An officer oversees their own organisation's staff, not everyone: every alert, user and
event here is of the officer's organisation (a user's events while at another organisation
are that organisation's business), and anything else is not found. Each read writes its
audit event before anything is returned, and each change writes it first in the change's
own transaction, so a change whose event cannot be written is not made (fail-closed). An
event holds ids and codes only: never a child's identifying data nor a note's words.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from contactpoint.access.models import User
from contactpoint.access.permissions import Permission, Target
from contactpoint.access.users import Actor, Invalid, Refused, require
from contactpoint.audit import log as audit_log
from contactpoint.audit.models import Event
from contactpoint.keystore import service as keystore
from contactpoint.lib.errors import Refusal
from contactpoint.lib.identifiers import InvalidIdentifier, validate_cpid
from contactpoint.oversight.models import MisuseAlert
from contactpoint.registry import lookup
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.models import Child

REVIEW = Permission.ORGANISATION_MISUSE_ALERTS_REVIEW
HISTORY = Permission.ORGANISATION_ACCESS_HISTORY_READ
SUSPEND = Permission.ORGANISATION_USERS_SUSPEND

QUEUE_READ = "oversight:misuse-alerts:read"
ALERT_READ = "oversight:misuse-alert:read"
ALERT_REVIEW = "oversight:misuse-alert:review"
USER_HISTORY_READ = "oversight:user-history:read"
CHILD_HISTORY_READ = "oversight:child-history:read"
USER_SUSPEND = "oversight:user:suspend"

MIN_TEXT, MAX_TEXT = 10, 2000  # a note or a reason: enough to say why, short of a report
RECENTLY_REVIEWED = dt.timedelta(days=30)
REVIEWED_SHOWN = 50
HISTORY_LIMIT = 100
NO_SUCH_CHILD = "No record has this ID"


class NotFound(Refusal):
    """No such alert, user or child within the officer's organisation."""


@dataclass(frozen=True)
class AlertRow:
    alert: MisuseAlert
    user: User | None  # None for a machine client, or a user since deleted


@dataclass(frozen=True)
class Queue:
    waiting: list[AlertRow]  # oldest first
    reviewed: list[AlertRow]  # in the last RECENTLY_REVIEWED, newest first


@dataclass(frozen=True)
class AlertDetail:
    alert: MisuseAlert
    user: User | None
    cpids: list[str]  # the children of the evidence, by contactpoint ID only
    note: str  # the review's note, opened ("" before a review, or once its key is gone)
    reviewer: User | None


@dataclass(frozen=True)
class History:
    """One page of events, newest first, with who did each and the children's IDs."""

    events: list[Event]
    users: dict[str, User]  # by principal ("user:<id>")
    cpids: dict[int, str]  # the child's contactpoint ID by event index (their sealed ids)
    purposes: dict[int, str]  # each event's purpose by index, a sealed one opened
    before: int | None  # the `before` of the next (older) page, None on the last


def queue(actor: Actor) -> Queue:
    """The organisation's open alerts, oldest first, then those reviewed recently."""
    organisation = _organisation(actor, REVIEW)
    audit_log.append(audit_log.entry(actor.principal, QUEUE_READ))
    alerts = MisuseAlert.objects.filter(organisation_id=organisation)
    waiting = alerts.filter(status=MisuseAlert.Status.OPEN).order_by("raised_at", "id")
    since = timezone.now() - RECENTLY_REVIEWED
    reviewed = alerts.filter(status=MisuseAlert.Status.REVIEWED, reviewed_at__gte=since)
    reviewed = reviewed.order_by("-reviewed_at")[:REVIEWED_SHOWN]
    open_rows, done_rows = list(waiting), list(reviewed)
    users = _users(a.principal for a in open_rows + done_rows)
    return Queue(
        [AlertRow(a, users.get(a.principal)) for a in open_rows],
        [AlertRow(a, users.get(a.principal)) for a in done_rows],
    )


def alert(actor: Actor, alert_id: uuid.UUID) -> AlertDetail:
    """One alert of the officer's organisation, with its evidence and review.

    Raises:
        Refused: the actor does not review misuse alerts.
        NotFound: no such alert in the actor's organisation.
    """
    found = _own_alert(actor, alert_id, ALERT_READ)
    audit_log.append(audit_log.entry(actor.principal, ALERT_READ, details={"alert": str(found.pk)}))
    ids = [uuid.UUID(i) for i in found.child_ids if _is_uuid(str(i))]
    cpids = dict(Child.objects.filter(pk__in=ids).values_list("pk", "cpid"))
    users = _users([found.principal])
    reviewer = (
        User.objects.filter(pk=found.reviewed_by_id).first() if found.reviewed_by_id else None
    )
    return AlertDetail(
        alert=found,
        user=users.get(found.principal),
        cpids=[cpids[i] for i in ids if i in cpids],
        note=_open_note(found),
        reviewer=reviewer,
    )


def review(actor: Actor, alert_id: uuid.UUID, outcome: str, note: str) -> MisuseAlert:
    """Record the outcome of an officer's review of one alert, with their note sealed.

    Raises:
        Refused: not a reviewer of misuse alerts, or the alert is about the actor.
        NotFound: no such alert in the actor's organisation.
        Invalid: no outcome, too short or too long a note, or reviewed already.
    """
    found = _own_alert(actor, alert_id, ALERT_REVIEW)
    if outcome not in MisuseAlert.Outcome.values:
        raise Invalid("Select the outcome of your review")
    note = checked_text(note, "note")
    if actor.user is None or found.principal == f"user:{actor.user.pk}":
        raise Refused("Another privacy officer must review an alert about you")
    details = {"alert": str(found.pk), "kind": found.kind, "outcome": outcome}
    with transaction.atomic():
        locked = MisuseAlert.objects.select_for_update().get(pk=found.pk)
        if locked.status == MisuseAlert.Status.REVIEWED:
            raise Invalid("This alert has been reviewed already")
        audit_log.append(audit_log.entry(actor.principal, ALERT_REVIEW, details=details))
        cipher = ChildCipher(locked.pk, keystore.ensure_data_key(locked.pk))
        locked.note = cipher.seal(MisuseAlert, "note", locked.pk, note)
        locked.outcome = outcome
        locked.status = MisuseAlert.Status.REVIEWED
        locked.reviewed_by = actor.user
        locked.reviewed_at = timezone.now()
        locked.save(update_fields=["note", "outcome", "status", "reviewed_by", "reviewed_at"])
    return locked


def user_history(
    actor: Actor, user_id: uuid.UUID, before: int | None = None, limit: int = HISTORY_LIMIT
) -> tuple[User, History]:
    """A user's events while at the actor's organisation, newest first, `limit` a page.

    Raises:
        Refused: the actor does not read access histories.
        NotFound: no such user in the actor's organisation.
    """
    organisation = _organisation(actor, HISTORY)
    user = User.objects.filter(pk=user_id, organisation_id=organisation).first()
    if user is None:
        _not_found(actor, USER_HISTORY_READ, {"user": str(user_id)})
    details: dict[str, Any] = {"user": str(user.pk), "before": before}
    audit_log.append(audit_log.entry(actor.principal, USER_HISTORY_READ, details=details))
    events = Event.objects.filter(principal=f"user:{user.pk}", organisation_id=organisation)
    return user, _history(events, before, limit)


def child_history(
    actor: Actor, cpid: str, before: int | None = None, limit: int = HISTORY_LIMIT
) -> tuple[Child, History]:
    """The events about a child by the principals of the actor's organisation, newest
    first: an officer oversees their own staff, not everyone who looked.

    Raises:
        Refused: the actor does not read access histories.
        NotFound: the ID is malformed or no open record has it (one answer for both).
    """
    organisation = _organisation(actor, HISTORY)
    try:
        child = lookup.child_by_cpid(validate_cpid(cpid))
    except (InvalidIdentifier, lookup.NotFound):
        _not_found(actor, CHILD_HISTORY_READ, {"reason": NO_SUCH_CHILD})  # the ID is not kept
    entry = audit_log.entry(
        actor.principal, CHILD_HISTORY_READ, child_id=child.pk, details={"before": before}
    )
    audit_log.append(entry)
    merged = _merged_into(child)
    events = audit_log.about_children(Event.objects.all(), merged).filter(
        organisation_id=organisation
    )
    known = {audit_log.child_tag(c): c for c in merged}
    return child, _history(events, before, limit, known)


def suspend(actor: Actor, user_id: uuid.UUID, reason: str) -> User:
    """Stop a user of the organisation at once: disabled, every session and token ended.

    Only their local index team enables them again (its enable and recertify pages).

    Raises:
        Refused: the actor may not suspend users, or asked to suspend themselves.
        NotFound: no such user in the actor's organisation.
        Invalid: too short or too long a reason, or the user cannot sign in already.
    """
    organisation = _organisation(actor, SUSPEND)
    user = User.objects.filter(pk=user_id, organisation_id=organisation).first()
    if user is None:
        _not_found(actor, USER_SUSPEND, {"user": str(user_id)})
    if actor.principal.kind == "user" and actor.principal.id == str(user.pk):
        raise Refused("You cannot suspend yourself")
    reason = checked_text(reason, "reason")
    # The reason is kept only in the event's sealed details: the user's page asks for it
    # not to name a child.
    details = {"user": str(user.pk), "reason": reason}
    with transaction.atomic():
        # No joins: PostgreSQL locks no row on the nullable side of an outer join.
        locked = User.objects.select_related(None).select_for_update().get(pk=user.pk)
        if not locked.enabled:
            raise Invalid("This user cannot sign in already")
        audit_log.append(audit_log.entry(actor.principal, USER_SUSPEND, details=details))
        User.objects.filter(pk=user.pk).update(enabled=False, session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["enabled", "session_epoch"])
    return user


# --- helpers --------------------------------------------------------------------------------


def _organisation(actor: Actor, permission: Permission) -> int:
    """The actor's organisation, once the decider says they hold `permission` for it."""
    organisation = actor.principal.organisation_id
    require(actor, permission, Target(organisation_id=organisation))
    return organisation


def _own_alert(actor: Actor, alert_id: uuid.UUID, action: str) -> MisuseAlert:
    organisation = _organisation(actor, REVIEW)
    found = MisuseAlert.objects.filter(pk=alert_id, organisation_id=organisation).first()
    if found is None:
        _not_found(actor, action, {"alert": str(alert_id)})
    return found


def _not_found(actor: Actor, action: str, details: dict[str, Any]) -> NoReturn:
    """Audit a look-up of something outside the organisation (or nothing) and refuse it:
    repeated ones are what misuse detection looks for."""
    refusal = audit_log.entry(actor.principal, action, audit_log.REFUSED, details=details)
    audit_log.append(refusal)
    raise NotFound


def checked_text(text: str, what: str) -> str:
    """A note or a reason, stripped, or Invalid when too short or too long."""
    text = text.strip()
    if len(text) < MIN_TEXT:
        raise Invalid(f"Write a {what} of at least {MIN_TEXT} characters")
    if len(text) > MAX_TEXT:
        raise Invalid(f"Keep the {what} under {MAX_TEXT:,} characters")
    return text


def _users(principals: Iterable[str]) -> dict[str, User]:
    ids = {p.removeprefix("user:") for p in principals if p.startswith("user:")}
    valid = [i for i in ids if _is_uuid(i)]
    return {f"user:{u.pk}": u for u in User.objects.filter(pk__in=valid)}


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _history(
    events: QuerySet[Event],
    before: int | None,
    limit: int,
    known: Mapping[bytes, uuid.UUID] | None = None,
) -> History:
    """A page of events, newest first. Each event's child is `known` by its tag (a child's
    history asked for by tag), or else opened from the events' sealed bodies."""
    if before is not None:
        events = events.filter(index__lt=before)
    rows = list(events.order_by("-index")[: limit + 1])
    page, more = rows[:limit], len(rows) > limit
    if known is None:
        children = audit_log.children_of(page)
    else:
        tags = {e.index: bytes(e.child_tag) for e in page if e.child_tag is not None}
        children = {i: known[t] for i, t in tags.items() if t in known}
    cpids = dict(Child.objects.filter(pk__in=children.values()).values_list("pk", "cpid"))
    return History(
        events=page,
        users=_users(e.principal for e in page),
        cpids={index: cpids[child] for index, child in children.items() if child in cpids},
        purposes=audit_log.purposes_of(page),
        before=page[-1].index if more and page else None,
    )


def _merged_into(child: Child) -> set[uuid.UUID]:
    """The child and the records merged into it: events name the id of their time."""
    ids = {child.pk}
    frontier = {child.pk}
    for _ in range(5):  # a merge chain is short (see contactpoint.practice.record)
        frontier = set(Child.objects.filter(merged_into__in=frontier).values_list("pk", flat=True))
        if not frontier - ids:
            break
        ids |= frontier
    return ids


def _open_note(found: MisuseAlert) -> str:
    if found.note is None:
        return ""
    key = keystore.data_keys([found.pk]).get(found.pk)
    if key is None:
        return ""
    return ChildCipher(found.pk, key).open_field(found, "note") or ""
