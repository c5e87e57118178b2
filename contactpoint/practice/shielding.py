"""Shielding decided by two people (docs/shielding.md).

One member of a child's local index team asks to shield (or to stop shielding) the child,
with a reason code and an explanation; a second member of the same area's team approves
or rejects it, and only an approval changes whether the child is shielded (a keyed tag,
registry/shield_tags.py). Shielding carries a review
date (12 months by default, at most 24); `contactpoint shielding remind` tells the team
when it comes, once, and one member alone may review it and keep it with a new date.

A child a source's sensitive flag shielded can be unshielded by the same two steps, but a
feed never clears shielding and the next sensitive record for the child shields it again.

The two people are each enabled by a third party (neither enabled the other, nor
themselves) and have held their role for SETTLED_DAYS at least: one person with a second,
fresh or self-made account cannot shield or unshield a child. Each step is e-mailed to the
privacy officers of the area, who oversee its index team, with no child data.

Each step writes its audit event first, in the step's own transaction: when the log
cannot be written (AuditUnavailable) nothing changes. The events name the decision, the
action, the reason code and the review date, never the explanation.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from contactpoint.access.models import User
from contactpoint.access.permissions import Permission, Principal, Role, Target
from contactpoint.access.standing import add_months
from contactpoint.access.users import Actor, Invalid, Refused, require
from contactpoint.audit import log as audit_log
from contactpoint.practice.involvements import alerts
from contactpoint.practice.models import Alert
from contactpoint.practice.record import local_area, local_team
from contactpoint.registry import shield_reasons, shield_tags
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.models import Child, ShieldingDecision

log = logging.getLogger(__name__)

DECIDE = Permission.AREA_SHIELDING_DECIDE
Action = ShieldingDecision.Action
Reason = ShieldingDecision.Reason
Status = ShieldingDecision.Status

SETTLED_DAYS = 7  # a decider has held the role this long: no account made this morning
REVIEW_MONTHS = 12  # the review date unless the requester sets one
LONGEST_MONTHS = 24  # no shielding goes unreviewed for longer
MIN_EXPLANATION = 20  # characters: enough for the second person to judge
MAX_EXPLANATION = 2000
REASONS: dict[str, tuple[str, ...]] = {
    Action.SHIELD: (Reason.DOMESTIC_ABUSE, Reason.PROTECTION, Reason.ADOPTION, Reason.OTHER),
    Action.UNSHIELD: (Reason.RISK_ENDED, Reason.MISTAKE, Reason.OTHER),
}

NOT_LOCAL = "only the local index team of the child's area decides its shielding"
WAITING = "a shielding request for this child is already waiting for a second person"
FEED_FLAG = (
    "a source's sensitive flag shielded this child: you may stop shielding it, but a "
    "later sensitive record from a feed shields it again"
)


def may_decide(principal: Principal, child_id: uuid.UUID) -> bool:
    """Whether the principal is in the local index team of one of the child's areas."""
    return local_team(principal, child_id, DECIDE)


def deciding_area(actor: Actor, child: Child) -> str:
    """The child's council area whose index team the actor is in.

    Raises:
        Refused: the actor is not in the local index team of any of the child's areas.
    """
    require(actor, DECIDE)
    if (area := local_area(actor.principal, child.pk, DECIDE)) is None:
        raise Refused(NOT_LOCAL)
    return area


def _person(actor: Actor) -> User:
    """The actor as a decider: a person, enabled by a third party, settled in the role.

    Raises:
        Refused: a machine client, an account its holder enabled or nobody recorded
            enabling, or a role held for less than SETTLED_DAYS.
    """
    if actor.user is None:
        raise Refused("shielding is decided by people of the local index team, not a system")
    user = actor.user
    if user.enabled_by_id is None or user.enabled_by_id == user.pk:
        raise Refused(
            "shielding is decided by people someone else enabled: ask another authoriser "
            "to enable your account"
        )
    if user.role_since > timezone.now() - dt.timedelta(days=SETTLED_DAYS):
        raise Refused(
            f"shielding is decided by people who have held their role for {SETTLED_DAYS} "
            "days or more"
        )
    return user


def _two_people(requester: User, decider: User) -> None:
    """Two people, neither of whom vouched for the other (each enabled by a third).

    Raises:
        Refused: the same person, or one enabled the other.
    """
    if requester.pk == decider.pk:
        raise Refused("someone else in your local index team must approve your own request")
    if requester.enabled_by_id == decider.pk or decider.enabled_by_id == requester.pk:
        raise Refused(
            "someone who neither enabled the requester nor was enabled by them must decide "
            "this request"
        )
    _person(Actor(requester.principal(second_factor=True), requester))


def current(child: Child) -> ShieldingDecision | None:
    """The approved shielding now in force for the child (None: not shielded, or shielded
    by a source's flag alone)."""
    last = (
        ShieldingDecision.objects.filter(
            child_tag=shield_tags.decision_tag(child.pk), status=Status.APPROVED
        )
        .order_by("-decided_at")
        .first()
    )
    if last is None or last.action != Action.SHIELD or not child.shielded:
        return None
    return last


def shielded_by_feed(child: Child) -> bool:
    return child.shielded and current(child) is None


def open_request(child: Child) -> ShieldingDecision | None:
    return ShieldingDecision.objects.filter(
        child_tag=shield_tags.decision_tag(child.pk), status=Status.REQUESTED
    ).first()


def review_date(action: str, asked: dt.date | None, today: dt.date) -> dt.date | None:
    """The review date of a request: none to unshield; 12 months unless asked, at most 24.

    Raises:
        Invalid: a date not after today, or more than 24 months away.
    """
    if action != Action.SHIELD:
        return None
    if asked is None:
        return add_months(today, REVIEW_MONTHS)
    if asked <= today:
        raise Invalid("the review date must be in the future")
    if asked > add_months(today, LONGEST_MONTHS):
        raise Invalid(f"the review date must be within {LONGEST_MONTHS} months")
    return asked


def _check(child: Child, action: str, reason: str, explanation: str) -> None:
    if child.status != Child.Status.ACTIVE:
        raise Invalid("this record is closed")
    if action not in Action.values:
        raise Invalid("select whether to shield the child or stop shielding it")
    if action == Action.SHIELD and child.shielded:
        raise Invalid("this child is already shielded")
    if action == Action.UNSHIELD and not child.shielded:
        raise Invalid("this child is not shielded")
    if reason not in REASONS[action]:
        raise Invalid("select the reason")
    if len(explanation) < MIN_EXPLANATION:
        raise Invalid(f"explain the request in at least {MIN_EXPLANATION} characters")
    if len(explanation) > MAX_EXPLANATION:
        raise Invalid(f"keep the explanation under {MAX_EXPLANATION:,} characters")


def _audit(actor: Actor, step: str, decision: ShieldingDecision, **more: Any) -> None:
    """The step's event: ids, codes and dates only, never the explanation."""
    details: dict[str, Any] = {
        "decision": str(decision.pk),
        "action": decision.action,
        "reason": decision.reason_code,
        "review_on": decision.review_on.isoformat() if decision.review_on else None,
        **more,
    }
    event = audit_log.entry(
        actor.principal, f"child:shielding:{step}", child_id=decision.child_id, details=details
    )
    audit_log.append(event)


@transaction.atomic
def request(
    actor: Actor,
    child: Child,
    action: str,
    reason: str,
    explanation: str,
    review_on: dt.date | None = None,
) -> ShieldingDecision:
    """Ask a second member of the team to shield the child, or to stop shielding it.

    Raises:
        Refused: not a person of the local index team of the child's area.
        Invalid: the child is already as asked, a request waits, or the form is wrong.
        AuditUnavailable: nothing is asked.
    """
    area = deciding_area(actor, child)
    user = _person(actor)
    explanation = explanation.strip()
    _check(child, action, reason, explanation)
    today = timezone.localdate()
    review = review_date(action, review_on, today)
    if open_request(child) is not None:
        raise Invalid(WAITING)
    cipher = ciphers_for({child.pk}).get(child.pk)
    if cipher is None:  # the child's key is gone: the record is being deleted
        raise Invalid("this record is closed")
    row_id = uuid.uuid4()
    decision = ShieldingDecision(
        id=row_id,
        action=action,
        explanation=cipher.seal(ShieldingDecision, "explanation", row_id, explanation),
        area_code=area,
        requested_by=user,
        requested_at=timezone.now(),
        review_on=review,
    )
    shield_tags.name_child(decision, child)
    shield_reasons.seal_reason(decision, reason)
    with transaction.atomic():
        _audit(actor, "request", decision, shielded_by_feed=shielded_by_feed(child))
        try:
            with transaction.atomic():
                decision.save(force_insert=True)
        except IntegrityError:  # another request arrived a moment ago
            raise Invalid(WAITING) from None
        _tell_privacy_officers("request", decision, user)
    return decision


def _locked(actor: Actor, decision_id: uuid.UUID, noun: str) -> ShieldingDecision:
    """The decision, locked, once the actor is of its area's index team."""
    require(actor, DECIDE)
    decision = ShieldingDecision.objects.select_for_update().filter(pk=decision_id).first()
    if decision is None:
        raise Invalid(f"there is no such shielding {noun}")
    require(actor, DECIDE, Target(area_code=decision.area_code))
    return decision


def _waiting(actor: Actor, decision_id: uuid.UUID) -> ShieldingDecision:
    """The open request, locked, once the actor is of its area's index team."""
    decision = _locked(actor, decision_id, "request")
    if decision.status != Status.REQUESTED:
        raise Invalid(f"this request is no longer waiting: {decision.get_status_display()}")
    return decision


@transaction.atomic
def approve(actor: Actor, decision_id: uuid.UUID) -> ShieldingDecision:
    """The second person agrees: the child is shielded (or not) from now on.

    Raises:
        Refused: the requester themself, or not of the request's area's index team.
        Invalid: no such request, or it is no longer waiting.
    """
    user = _person(actor)
    with transaction.atomic():
        decision = _waiting(actor, decision_id)
        _two_people(decision.requested_by, user)
        child = decision.child
        if child.status != Child.Status.ACTIVE:
            raise Invalid("this record is closed")
        _audit(actor, "approve", decision, shielded_by_feed=shielded_by_feed(child))
        shield = decision.action == Action.SHIELD
        _decided(decision, user, Status.APPROVED)
        (shield_tags.shield if shield else shield_tags.unshield)([child.pk])
        Child.objects.filter(pk=child.pk).update(updated_at=timezone.now())
        _tell_privacy_officers("approve", decision, user)
    return decision


@transaction.atomic
def reject(actor: Actor, decision_id: uuid.UUID) -> ShieldingDecision:
    """The second person disagrees: nothing changes for the child."""
    user = _person(actor)
    with transaction.atomic():
        decision = _waiting(actor, decision_id)
        if decision.requested_by_id == user.pk:
            raise Refused("withdraw your own request instead: someone else rejects it")
        _audit(actor, "reject", decision)
        _decided(decision, user, Status.REJECTED)
        _tell_privacy_officers("reject", decision, user)
    return decision


@transaction.atomic
def withdraw(actor: Actor, decision_id: uuid.UUID) -> ShieldingDecision:
    """The requester takes their request back."""
    user = _person(actor)
    with transaction.atomic():
        decision = _waiting(actor, decision_id)
        if decision.requested_by_id != user.pk:
            raise Refused("only the person who asked may withdraw a request")
        _audit(actor, "withdraw", decision)
        _decided(decision, user, Status.WITHDRAWN)
        _tell_privacy_officers("withdraw", decision, user)
    return decision


# What the privacy officers are told of each step, by the step's audit name.
TOLD = {
    "request": "{who} asked to {action} a child",
    "approve": "{who} approved a request to {action} a child: the child's shielding changed",
    "reject": "{who} rejected a request to {action} a child: nothing changed",
    "withdraw": "{who} withdrew their request to {action} a child",
    "review": "{who} reviewed a child's shielding and kept it",
}
ACTIONS = {Action.SHIELD.value: "shield", Action.UNSHIELD.value: "stop shielding"}


def privacy_officers_of_area(area_code: str) -> list[User]:
    """The enabled privacy officers of the organisations of a council area: those who
    oversee its local index team."""
    return list(
        User.objects.filter(
            organisation__council_area__code=area_code,
            role=Role.PRIVACY_OFFICER.value,
            enabled=True,
        )
    )


def _tell_privacy_officers(step: str, decision: ShieldingDecision, by: User) -> None:
    """E-mail the area's privacy officers, once the step commits, that the index team
    took it: who, which step and the decision's id, never the child or the explanation."""
    emails = [officer.email for officer in privacy_officers_of_area(decision.area_code)]
    what = TOLD[step].format(who=f"{by.name} ({by.email})", action=ACTIONS[decision.action])
    body = (
        f"In your council area ({decision.area_code}) the local index team's shielding "
        f"decisions changed: {what}.\n\n"
        f"Shielding decision {decision.pk}. The child is not named here on purpose; "
        "if this is not what you expect, look into it with the local index team.\n\n"
        "This e-mail holds no details of the child. Do not reply to it."
    )

    def send() -> None:
        for email in emails:
            try:
                send_mail("A shielding decision in your area", body, None, [email])
            except OSError:
                log.warning("shielding e-mail to a privacy officer could not be sent")

    transaction.on_commit(send)


def _decided(decision: ShieldingDecision, user: User, status: str) -> None:
    decision.status = status
    decision.decided_by = user
    decision.decided_at = timezone.now()
    decision.save(update_fields=["status", "decided_by", "decided_at"])


@transaction.atomic
def keep(
    actor: Actor, decision_id: uuid.UUID, review_on: dt.date | None = None
) -> ShieldingDecision:
    """Review the shielding in force and keep it until a new review date (one person:
    keeping changes nothing a second pair of eyes must check).

    Raises:
        Refused: not of the area's index team that decided it.
        Invalid: not the shielding in force, an unshielding request waits, or a wrong date.
    """
    user = _person(actor)
    require(actor, DECIDE)
    with transaction.atomic():
        decision = _locked(actor, decision_id, "decision")
        current_one = current(decision.child)
        if current_one is None or current_one.pk != decision.pk:
            raise Invalid("this is not the shielding in force for the child")
        if open_request(decision.child) is not None:
            raise Invalid("a request about this child's shielding is waiting: decide it first")
        today = timezone.localdate()
        previous = decision.review_on
        decision.review_on = review_date(Action.SHIELD, review_on, today)
        before = previous.isoformat() if previous else None
        _audit(actor, "review", decision, previous_review_on=before)
        decision.reminded_at = None
        decision.reviewed_by = user
        decision.reviewed_at = timezone.now()
        decision.save(update_fields=["review_on", "reminded_at", "reviewed_by", "reviewed_at"])
        _tell_privacy_officers("review", decision, user)
    return decision


def in_force() -> QuerySet[ShieldingDecision]:
    """The approved shieldings not followed by a later approved decision for the child.

    The child is not in the row (only its keyed tag): whether it is still active and
    shielded is checked once the few rows wanted are fetched (`still_shielded`)."""
    later = ShieldingDecision.objects.filter(
        child_tag=OuterRef("child_tag"),
        status=Status.APPROVED,
        decided_at__gt=OuterRef("decided_at"),
    )
    return ShieldingDecision.objects.filter(status=Status.APPROVED, action=Action.SHIELD).exclude(
        Exists(later)
    )


def still_shielded(decisions: QuerySet[ShieldingDecision]) -> list[ShieldingDecision]:
    """The decisions whose child is active and shielded (each child id opened)."""
    rows = list(decisions)
    shielded = shield_tags.shielded_among(d.child.pk for d in rows)
    return [d for d in rows if d.child.status == Child.Status.ACTIVE and d.child.pk in shielded]


def due_for_review(today: dt.date) -> QuerySet[ShieldingDecision]:
    """The shieldings in force whose review date has come, the longest waiting first
    (`still_shielded` leaves out those of a child no longer active or shielded)."""
    return in_force().filter(review_on__lte=today).order_by("review_on")


def remind(today: dt.date) -> int:
    """Tell the deciding area's index team of each shielding due for review, once per
    review date (keeping it sets a new date, which is reminded in its turn). Returns how
    many were reminded; safe to run any number of times."""
    reminded = 0
    for decision in still_shielded(due_for_review(today).filter(reminded_at__isnull=True)):
        with transaction.atomic():
            claimed = ShieldingDecision.objects.filter(
                pk=decision.pk, reminded_at__isnull=True
            ).update(reminded_at=timezone.now())
            if not claimed:  # another run reminded it a moment ago
                continue
            alerts.raise_alert(
                alerts.index_team_of([decision.area_code]),
                Alert.Kind.SHIELDING_REVIEW_DUE,
                child_id=decision.child_id,
            )
        reminded += 1
    return reminded


@dataclass(frozen=True)
class Queue:
    waiting: list[ShieldingDecision]  # requests of the actor's area for a second person
    due: list[ShieldingDecision]  # shieldings of the actor's area due for review


def queue(actor: Actor, today: dt.date | None = None) -> Queue:
    """What the actor's area's index team has to decide, oldest first."""
    require(actor, DECIDE)
    area = actor.principal.area_code
    if area is None:
        return Queue([], [])
    waiting = (
        ShieldingDecision.objects.filter(status=Status.REQUESTED, area_code=area)
        .select_related("requested_by")
        .order_by("requested_at")
    )
    due = due_for_review(today or timezone.localdate()).filter(area_code=area)
    return Queue(list(waiting), still_shielded(due))


def explanation_of(decision: ShieldingDecision) -> str:
    """The explanation, opened for the second person ("" when the child's key is gone)."""
    cipher = ciphers_for({decision.child_id}).get(decision.child_id)
    if cipher is None:
        return ""
    return cipher.open_field(decision, "explanation") or ""
