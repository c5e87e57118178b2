"""Misuse rules on registering involvements, run by the nightly job on events written
through the real audit log (contactpoint/oversight/registrations.py): registrations ended
with no follow-up, judged a week later, and many registrations in a day."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from contactpoint.access.users import Actor
from contactpoint.audit import log as audit_log
from contactpoint.oversight import activity, detection
from contactpoint.oversight.models import MisuseAlert
from contactpoint.oversight.registrations import FOLLOW_UP_DAYS
from tests.support.actors import Actors

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

LONDON = activity.LONDON
DAY = dt.date(2026, 11, 18)  # a Wednesday; judged at 03:00 the morning after
RUN_AT = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(3), LONDON)
WEEK_BEFORE = DAY - dt.timedelta(days=FOLLOW_UP_DAYS)
REGISTER, END, CAF = (f"child:involvement:{a}" for a in ("register", "end", "caf"))


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), LONDON)


def event(actor: Actor, action: str, when: dt.datetime, **fields: object) -> None:
    audit_log.append(audit_log.entry(actor.principal, action, **fields), when)  # type: ignore[arg-type]


def register_and_read(actor: Actor, child: uuid.UUID, when: dt.datetime) -> None:
    """Register with a child and read the contacts that opens, as the pages do."""
    event(actor, REGISTER, when, child_id=child)
    event(actor, activity.VIEW, when + dt.timedelta(minutes=1), child_id=child)


def alerts(kind: str) -> list[MisuseAlert]:
    return list(MisuseAlert.objects.filter(kind=kind))


def test_registrations_ended_with_no_follow_up_raise_an_alert_a_week_later(
    actors: Actors,
) -> None:
    alice, bob = Actor.of(actors.alice), Actor.of(actors.bob)
    peeked = [uuid.uuid4() for _ in range(3)]
    for n, child in enumerate(peeked):  # register, read the contacts, end: a peek
        register_and_read(alice, child, at(WEEK_BEFORE, 10, n * 5))
        event(alice, END, at(WEEK_BEFORE, 10, n * 5 + 3), child_id=child)
    worked = [uuid.uuid4() for _ in range(3)]
    for n, child in enumerate(worked):  # registered, worked on, then ended: ordinary
        register_and_read(bob, child, at(WEEK_BEFORE, 11, n * 5))
        event(bob, CAF, at(WEEK_BEFORE + dt.timedelta(days=2), 9, n), child_id=child)
        event(bob, END, at(WEEK_BEFORE + dt.timedelta(days=3), 9, n), child_id=child)

    detection.run(now=RUN_AT, day=DAY)

    (alert,) = alerts("registrations_not_followed_up")
    assert alert.principal == f"user:{actors.alice.pk}"
    assert alert.organisation_id == actors.school_a.pk
    assert (alert.first_day, alert.count) == (DAY, 3)
    assert sorted(alert.child_ids) == sorted(str(c) for c in peeked)
    assert "only read their contacts" in alert.reason


def test_one_registration_ended_at_once_is_a_mistake_not_an_alert(actors: Actors) -> None:
    alice = Actor.of(actors.alice)
    child = uuid.uuid4()
    register_and_read(alice, child, at(WEEK_BEFORE, 10))
    event(alice, END, at(WEEK_BEFORE, 10, 5), child_id=child)
    detection.run(now=RUN_AT, day=DAY)
    assert alerts("registrations_not_followed_up") == []


def test_many_registrations_in_a_day_raise_an_alert_and_a_few_do_not(actors: Actors) -> None:
    alice, bob = Actor.of(actors.alice), Actor.of(actors.bob)
    for n in range(8):
        register_and_read(alice, uuid.uuid4(), at(DAY, 14, n * 5))
    # Two more refused by the daily limit count as tries.
    for n in range(2):
        event(alice, REGISTER, at(DAY, 15, n), outcome="refused", child_id=uuid.uuid4())
    for n in range(2):
        register_and_read(bob, uuid.uuid4(), at(DAY, 10, n * 5))

    detection.run(now=RUN_AT, day=DAY)

    (alert,) = alerts("many_registrations")
    assert alert.principal == f"user:{actors.alice.pk}"
    assert alert.count == 10
    assert len(alert.child_ids) == 8  # the ones registered
    assert "registered or tried to register 10 involvements" in alert.reason
