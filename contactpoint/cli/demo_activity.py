"""`contactpoint demo-activity`: yesterday's use of the demo, so that the privacy officers'
pages have something to show on the first run (development only).

After `contactpoint demo-users`, this writes to the audit log, dated yesterday (UK time),
what the demo users would have done: the first demo social worker (by e-mail address)
found and viewed one of their caseload in the morning, and the first school practitioner
found and viewed LATE_LOOKS children late in the evening, a misuse pattern
(`out_of_hours`). It then runs the nightly misuse detection for yesterday, which puts an
alert in the queue of that practitioner's privacy officer (`/oversight`).

Nothing here is drawn at random: the children are the first by contactpoint ID and the
times are fixed, so the alert is raised on every run. A day already judged is left as it
is: run again the same day, it only says how many alerts are open.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import uuid

from django.utils import timezone

from contactpoint import config
from contactpoint.access.models import User
from contactpoint.audit import log as audit_log
from contactpoint.cli import error, progress
from contactpoint.cli.demo_users import DOMAIN
from contactpoint.oversight import activity, detection
from contactpoint.oversight.models import DetectionRun, MisuseAlert
from contactpoint.practice.relationships import involved
from contactpoint.registry import shield_tags
from contactpoint.registry.involvement_facts import member
from contactpoint.registry.models import Child, Involvement

LATE_LOOKS = 3  # at least rules.OUT_OF_HOURS_MIN, outside anyone's working hours
LATE = dt.time(23, 5)  # UK time: after every role's working hours and their grace
MORNING = dt.time(10, 15)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Run after `contactpoint demo-users` (make demo-data does)."


def run(args: argparse.Namespace) -> int:
    if not config.is_development():
        return error("demo-activity writes made-up audit events, so it runs only in development")
    day = detection.judgeable(timezone.now())
    if DetectionRun.objects.filter(day=day).exists():
        progress(f"demo-activity: {day.isoformat()} is judged already; {_open()} open alerts")
        return 0
    practitioner = _first("practitioner.")
    social_worker = _first("social-worker.")
    if practitioner is None or social_worker is None:
        return error("no demo users: run `contactpoint demo-users` first")
    caseload = _caseload(social_worker)
    if caseload is not None:
        _look(social_worker, caseload, _at(day, MORNING), "involved")
    for n, (child_id, signal) in enumerate(_late_children(practitioner)):
        _look(practitioner, child_id, _at(day, LATE) + dt.timedelta(minutes=7 * n), signal)
    judged = detection.run(day=day)[0]
    progress(
        f"demo-activity: {day.isoformat()}: {judged.accesses} accesses, {judged.alerts} "
        f"alerts found, {judged.queued} in the privacy officers' queues (/oversight)"
    )
    return 0


def _first(prefix: str) -> User | None:
    found = User.objects.filter(email__startswith=prefix, email__endswith=f"@{DOMAIN}")
    return found.order_by("email").first()


def _caseload(user: User) -> uuid.UUID | None:
    """The first child (by contactpoint ID) the user's organisation works with (the link is
    sealed: each open involvement's keyed digest is compared with the organisation's)."""
    open_ones = Involvement.objects.filter(end_date=None).order_by("child__cpid")
    for child_id, digest in open_ones.values_list("child_id", "member").iterator():
        if bytes(digest) == member(child_id, user.organisation_id):
            return child_id
    return None


def _late_children(user: User) -> list[tuple[uuid.UUID, str]]:
    """LATE_LOOKS children, first by contactpoint ID, each with its signal: "involved" when
    the user's organisation works with it (late is late, caseload or not)."""
    active = Child.objects.filter(status=Child.Status.ACTIVE).order_by("cpid")
    first = list(active.values_list("pk", flat=True)[: LATE_LOOKS * 4])
    shielded = shield_tags.shielded_among(first)
    chosen = [c for c in first if c not in shielded][:LATE_LOOKS]
    return [
        (child_id, "involved" if involved(user.organisation_id, child_id) else "")
        for child_id in chosen
    ]


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, activity.LONDON)


def _look(user: User, child_id: uuid.UUID, at: dt.datetime, signals: str) -> None:
    """A search that showed the child and, a minute later, its record viewed: the events
    the search and the record page write, in one request each."""
    principal = user.principal(second_factor=True)
    search = audit_log.entry(
        principal,
        "child:records:search",
        sealed_purpose="safeguarding",
        child_id=child_id,
        signals=signals,
        details={"searched_by": ["family_name", "given_name", "date_of_birth"], "shown": 1},
    )
    view = audit_log.entry(
        principal,
        activity.VIEW,
        child_id=child_id,
        signals=signals,
        details={"view": "full" if signals else "identity", "fields": []},
    )
    audit_log.append(dataclasses.replace(search, request_id=uuid.uuid4().hex), at)
    later = at + dt.timedelta(minutes=1)
    audit_log.append(dataclasses.replace(view, request_id=uuid.uuid4().hex), later)


def _open() -> int:
    return MisuseAlert.objects.filter(reviewed_at__isnull=True).count()
