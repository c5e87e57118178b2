"""The nightly misuse detection: judge a UK day's audited accesses with the rules, keep the
alerts for the privacy officer of each user's organisation, and tell the officers.

`contactpoint oversight detect` runs it (docs/oversight.md: every night after 02:00 UK
time, so that a late search's follow-up is in). A day is judged once: its `DetectionRun`
row is written in the same transaction as its alerts, so a run that fails leaves nothing
and the next one judges the day again, and a second run of a judged day changes nothing.
Days missed (the job did not run) are caught up, oldest first, up to CATCH_UP_DAYS.

The rules compare children by the audit events' child tags (each as a UUID), never their
ids: only the children of the alerts found are opened, from one sealed event each, for the
privacy officer (the alert keeps them sealed under a key of its own).

Every emergency access already raised an immediate alert and a review task of its own
(contactpoint.practice.involvements.emergency), so the emergency_access rule's findings
are not put in the misuse queue a second time.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from contactpoint.access.users import privacy_officers_of
from contactpoint.audit import log as audit_log
from contactpoint.audit.models import Event
from contactpoint.oversight import activity, rules, signals
from contactpoint.oversight.models import DetectionRun, MisuseAlert

log = logging.getLogger(__name__)

RUN = "oversight:detection:run"
CATCH_UP_DAYS = 7
# Each emergency access has its own immediate alert and review (see the docstring).
NOT_QUEUED = frozenset({rules.Kind.EMERGENCY_ACCESS})
# A pattern that goes on is one case: a day's finding joins the user's open alert of the
# same kind when that alert's last day was at most this long before.
MERGED = frozenset({rules.Kind.LOW_AND_SLOW})
MERGE_GAP_DAYS = 3
_FIELDS = (
    "at",
    "principal",
    "role",
    "organisation_id",
    "action",
    "outcome",
    "child_tag",
    "request_id",
    "signals",
)


@dataclass(frozen=True)
class Judged:
    """What a run did for one day."""

    day: dt.date
    accesses: int
    alerts: int  # found by the rules
    queued: int  # new alerts in the queue (merged ones are not new)
    already: bool = False  # judged before: nothing done


def judgeable(now: dt.datetime) -> dt.date:
    """The last UK day that can be judged at `now`: the day before today."""
    return now.astimezone(activity.LONDON).date() - dt.timedelta(days=1)


def due(now: dt.datetime) -> list[dt.date]:
    """The days to judge at `now`: since the last judged day, at most CATCH_UP_DAYS back."""
    last = judgeable(now)
    first = last - dt.timedelta(days=CATCH_UP_DAYS - 1)
    done = set(DetectionRun.objects.filter(day__gte=first).values_list("day", flat=True))
    days = [first + dt.timedelta(days=n) for n in range(CATCH_UP_DAYS)]
    return [d for d in days if d not in done]


def run(now: dt.datetime | None = None, day: dt.date | None = None) -> list[Judged]:
    """Judge `day` (or every day due) and store its alerts; return what was done."""
    now = now or timezone.now()
    if day is not None and day > judgeable(now):
        raise ValueError(f"{day.isoformat()} cannot be judged before it has ended (UK time)")
    days = [day] if day is not None else due(now)
    return [judge(d, now) for d in days]


def judge(day: dt.date, now: dt.datetime) -> Judged:
    """Judge one UK day as the rules see it from just after it (the follow-up window)."""
    if DetectionRun.objects.filter(day=day).exists():
        return Judged(day, 0, 0, 0, already=True)
    until = min(now, _start(day + dt.timedelta(days=1)) + activity.FOLLOW_UP_WINDOW)
    since = _start(day - dt.timedelta(days=activity.WINDOW_DAYS - 1))
    found = rules.detect(accesses(since, until), now=_day_after(day, until))
    ends = _start(day + dt.timedelta(days=1))
    seen = Event.objects.filter(at__gte=_start(day), at__lt=ends).exclude(principal="").count()
    with transaction.atomic():
        kept = [a for a in found if a.kind not in NOT_QUEUED]
        queued = store(kept, now, children_named(kept, since, until))
        details = {"day": day.isoformat(), "alerts": len(found), "queued": len(queued)}
        audit_log.append(audit_log.entry(None, RUN, details=details))
        DetectionRun.objects.create(day=day, ran_at=now, accesses=seen, alerts=len(found))
        transaction.on_commit(lambda: tell(queued))
    log.info("misuse detection judged %s: %d alerts, %d new", day, len(found), len(queued))
    return Judged(day, seen, len(found), len(queued))


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), activity.LONDON).astimezone(dt.UTC)


def _day_after(day: dt.date, until: dt.datetime) -> dt.datetime:
    """A `now` for the rules that makes `day` the day judged, reading accesses to `until`."""
    after = _start(day + dt.timedelta(days=1))
    return max(until, after + dt.timedelta(microseconds=1))


def accesses(since: dt.datetime, until: dt.datetime) -> Iterator[activity.Access]:
    """The audited accesses of principals in [since, until), as the rules read them."""
    rows = (
        Event.objects.filter(at__gte=since, at__lt=until)
        .exclude(principal="")
        .order_by("index")
        .values_list(*_FIELDS)
    )
    for at, principal, role, org, action, outcome, child, request, known in rows.iterator(
        chunk_size=5000
    ):
        flags = signals.parse(known)
        yield activity.Access(
            at=at,
            principal=principal,
            role=role,
            organisation_id=org,
            action=action,
            outcome=outcome,
            child_id=uuid.UUID(bytes=bytes(child)) if child is not None else None,
            request_id=request,
            same_surname=signals.SAME_SURNAME in flags,
            same_address=signals.SAME_ADDRESS in flags,
            involved=signals.INVOLVED in flags,
            outside_area=signals.OUTSIDE_AREA in flags,
            shielded=signals.SHIELDED in flags,
        )


def children_named(
    found: Sequence[rules.Alert], since: dt.datetime, until: dt.datetime
) -> dict[uuid.UUID, uuid.UUID]:
    """The child behind each pseudonym (child tag) of these alerts' evidence, from the
    sealed body of the first event in [since, until) with that tag. A child whose events'
    month was shredded is not in it."""
    tags = sorted({c.bytes for a in found for c in a.child_ids})
    first: list[int] = []
    for start in range(0, len(tags), 500):
        rows = (
            Event.objects.filter(child_tag__in=tags[start : start + 500])
            .filter(at__gte=since, at__lt=until)
            .values("child_tag")
            .annotate(first=Min("index"))
        )
        first += [row["first"] for row in rows]
    events = list(
        Event.objects.filter(index__in=first).only("index", "period", "sealed", "child_tag")
    )
    by_index = {e.index: bytes(e.child_tag) for e in events if e.child_tag is not None}
    opened = audit_log.children_of(events)
    return {uuid.UUID(bytes=by_index[i]): child for i, child in opened.items()}


def store(
    found: Sequence[rules.Alert], now: dt.datetime, named: Mapping[uuid.UUID, uuid.UUID]
) -> list[MisuseAlert]:
    """Keep the rules' alerts, their children `named` (children_named); a continuing
    pattern joins its open alert. Returns the new ones (the officers are told of those)."""
    new = []
    for alert in found:
        children = [str(named[c]) for c in alert.child_ids if c in named]
        if alert.kind in MERGED and (open_one := _open_alert(alert)) is not None:
            open_one.last_day = max(open_one.last_day, alert.day)
            open_one.reason = alert.reason
            open_one.count = alert.count
            open_one.child_ids = sorted(set(open_one.child_ids) | set(children))
            open_one.save(update_fields=["last_day", "reason", "count", "children"])
            continue
        made = MisuseAlert(
            id=uuid.uuid4(),
            kind=alert.kind.value,
            principal=alert.principal,
            organisation_id=alert.organisation_id,
            first_day=alert.day,
            last_day=alert.day,
            raised_at=now,
            reason=alert.reason,
            count=alert.count,
        )
        made.child_ids = children  # sealed under the alert's own key
        new.append(made)
    MisuseAlert.objects.bulk_create(new)
    return new


def _open_alert(alert: rules.Alert) -> MisuseAlert | None:
    return (
        MisuseAlert.objects.filter(
            kind=alert.kind.value,
            principal=alert.principal,
            status=MisuseAlert.Status.OPEN,
            last_day__gte=alert.day - dt.timedelta(days=MERGE_GAP_DAYS),
        )
        .order_by("-last_day")
        .first()
    )


def tell(new: Sequence[MisuseAlert]) -> int:
    """E-mail each privacy officer of an organisation with new alerts, once a run: how many
    are waiting, and where; no user, child or reason in the e-mail. Returns e-mails sent."""
    by_organisation = Counter(a.organisation_id for a in new if a.organisation_id is not None)
    sent = 0
    for organisation, count in sorted(by_organisation.items()):
        for officer in privacy_officers_of(organisation):
            noun = "alert" if count == 1 else "alerts"
            body = (
                f"{count} new misuse {noun} for your organisation wait for your review.\n\n"
                f"Sign in to review them: {settings.CONTACTPOINT_BASE_URL}/oversight\n\n"
                "This e-mail holds no details on purpose. Do not reply to it."
            )
            try:
                send_mail("New misuse alerts in contactpoint", body, None, [officer.email])
                sent += 1
            except OSError:
                log.warning("misuse alert e-mail could not be sent (organisation %s)", organisation)
    return sent
