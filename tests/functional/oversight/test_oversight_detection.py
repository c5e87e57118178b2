"""Misuse detection on the real audit log: what the application notes on each event when a
user looks at a child (signals), and the nightly job that judges a day's events with the
rules, keeps the alerts for the privacy officer of the user's organisation and tells them.

The rules themselves are tested on their own (tests/unit/oversight) and measured by
benchmarks/eval_misuse.py; here they run on events written through the audit log."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from contactpoint.access.models import User
from contactpoint.access.users import Actor
from contactpoint.audit import log as audit_log
from contactpoint.audit.log import AuditUnavailable
from contactpoint.audit.models import Event
from contactpoint.audit.verify import verify
from contactpoint.oversight import activity, detection
from contactpoint.oversight.declarations import declare_home_postcode
from contactpoint.oversight.models import DetectionRun, MisuseAlert
from contactpoint.practice import involvements
from contactpoint.practice.involvements import Details
from contactpoint.practice.record import openable, record_for
from contactpoint.registry import shield_tags
from contactpoint.registry.lookup import NotFound
from contactpoint.registry.models import Child
from contactpoint.search import service
from contactpoint.search.criteria import Asked, check
from tests.support.actors import Actors
from tests.support.children import PEOPLE, found, load_children
from tests.support.cli import run_cli
from tests.support.events import about

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

LONDON = activity.LONDON
# A Wednesday in term; the job runs at 03:00 UK time the morning after.
DAY = dt.date(2026, 11, 18)
RUN_AT = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(3), LONDON)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), LONDON)


def event(actor: Actor, action: str, when: dt.datetime, **fields: object) -> None:
    audit_log.append(audit_log.entry(actor.principal, action, **fields), when)  # type: ignore[arg-type]


def ordinary_weeks(actor: Actor, days: int = 20, per_day: int = 3) -> None:
    """A working history: a few children viewed on each weekday before DAY, each of the
    organisation's cases (involved), so that nothing in it is unusual."""
    for back in range(days, 0, -1):
        day = DAY - dt.timedelta(days=back)
        if day.weekday() >= 5:
            continue
        for n in range(per_day):
            child = uuid.UUID(int=n + 1)
            event(actor, activity.VIEW, at(day, 10, n), child_id=child, signals="involved")


# --- signals: what each event notes when a user looks at a child --------------------------


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


def signals_of(child: Child, action: str) -> list[str]:
    return list(
        about(child.pk).filter(action=action).order_by("index").values_list("signals", flat=True)
    )


def search_for(actor: Actor, key: str) -> service.Result:
    given, family, born, _, _ = PEOPLE[key]
    asked = Asked(
        purpose="starting_work",
        date_of_birth=dt.date.fromisoformat(born),
        given_name=given,
        family_name=family,
    )
    return service.search(actor.principal, check(asked, dt.date(2026, 11, 26)))


def test_a_search_and_a_view_note_a_shared_surname_without_keeping_any_name(
    actors: Actors, children: dict[str, Child]
) -> None:
    User.objects.filter(pk=actors.alice.pk).update(name="Alice Hartley")
    alice = Actor.of(User.objects.get(pk=actors.alice.pk))
    result = search_for(alice, "amelia")
    assert [c.child_id for c in result.candidates] == [children["amelia"].pk]
    record_for(alice.principal, openable(alice.principal, children["amelia"].cpid))
    assert signals_of(children["amelia"], activity.SEARCH) == ["same_surname"]
    assert signals_of(children["amelia"], activity.VIEW) == ["same_surname"]
    # A colleague with another name, looking at the same child, raises nothing.
    bob = Actor.of(actors.bob)
    search_for(bob, "amelia")
    assert signals_of(children["amelia"], activity.SEARCH)[-1] == ""
    # The event keeps the signal's name, never the name itself.
    stored = about(children["amelia"].pk).values_list("signals", "purpose", "request_id", "action")
    assert not any("hartley" in str(row).lower() for row in stored)


def test_a_hyphenated_surname_shares_either_part(
    actors: Actors, children: dict[str, Child]
) -> None:
    User.objects.filter(pk=actors.bob.pk).update(name="Bob Jones")
    bob = Actor.of(User.objects.get(pk=actors.bob.pk))
    found(bob, children["oliver"])  # Smith-Jones
    record_for(bob.principal, openable(bob.principal, children["oliver"].cpid))
    assert signals_of(children["oliver"], activity.VIEW) == ["same_surname"]


def test_a_view_notes_the_users_declared_home_postcode_and_their_involvement(
    actors: Actors, children: dict[str, Child]
) -> None:
    alice = Actor.of(actors.alice)
    declare_home_postcode(actors.alice, "nw13ab")  # amelia's postcode, typed loosely
    found(alice, children["amelia"])
    record_for(alice.principal, children["amelia"])
    involvements.register(alice, children["amelia"], Details("school_nurse", "Nurse", "1"))
    record_for(alice.principal, children["amelia"])
    assert signals_of(children["amelia"], activity.VIEW) == [
        "same_address",
        "same_address,involved",
    ]
    found(alice, children["maya"])  # NW1 8QP: another postcode
    record_for(alice.principal, children["maya"])
    # A new declaration applies at once (the user's side is kept a minute otherwise).
    declare_home_postcode(actors.alice, "NW1 8QP")
    record_for(alice.principal, children["maya"])
    assert signals_of(children["maya"], activity.VIEW) == ["", "same_address"]


def test_a_child_known_only_in_another_area_is_outside_the_users_area(
    actors: Actors, children: dict[str, Child]
) -> None:
    # The children's school and GP are in Camden (area A); Charlie works in Hackney (B).
    charlie, alice = Actor.of(actors.charlie), Actor.of(actors.alice)
    for actor in (charlie, alice):
        found(actor, children["jacob"])
        record_for(actor.principal, children["jacob"])
    assert signals_of(children["jacob"], activity.VIEW) == ["outside_area", ""]


def test_a_refused_opening_of_a_shielded_child_is_noted_as_shielded(
    actors: Actors, children: dict[str, Child]
) -> None:
    shield_tags.shield([children["maya"].pk])
    alice = Actor.of(actors.alice)
    with pytest.raises(NotFound):
        openable(alice.principal, children["maya"].cpid)
    (refused,) = about(children["maya"].pk).filter(action=activity.OPEN)
    assert (refused.outcome, refused.signals) == ("refused", "shielded")


def test_signals_are_part_of_the_events_commitment(
    actors: Actors, children: dict[str, Child]
) -> None:
    """Quietly clearing a signal (to hide a look at a relative) breaks the log's proof."""
    User.objects.filter(pk=actors.alice.pk).update(name="Alice Hartley")
    alice = Actor.of(User.objects.get(pk=actors.alice.pk))
    search_for(alice, "amelia")
    audit_log.sign_checkpoint()
    assert verify().problems == []
    Event.objects.filter(signals="same_surname").update(signals="")
    assert any("does not match its commitment" in p for p in verify().problems)


# --- the nightly job ---------------------------------------------------------------------


def test_the_job_raises_an_alert_for_the_users_privacy_officer_and_emails_them(
    actors: Actors,
) -> None:
    alice, bob = Actor.of(actors.alice), Actor.of(actors.bob)
    ordinary_weeks(alice)
    ordinary_weeks(bob)
    relative = uuid.uuid4()
    event(alice, activity.VIEW, at(DAY, 11), child_id=relative, signals="same_surname")
    for n in range(5):  # alice tries doors
        event(alice, "access:child:contacts:read", at(DAY, 12, n), outcome="refused")
    mail.outbox.clear()

    (judged,) = detection.run(now=RUN_AT, day=DAY)

    assert (judged.day, judged.already) == (DAY, False)
    assert judged.accesses == 6  # the day's events by people (bob had none that day)
    alerts = {a.kind: a for a in MisuseAlert.objects.all()}
    assert set(alerts) == {"same_surname_or_address", "repeated_refusals"}
    surname = alerts["same_surname_or_address"]
    assert surname.principal == f"user:{actors.alice.pk}"
    assert surname.organisation_id == actors.school_a.pk
    assert (surname.first_day, surname.last_day, surname.status) == (DAY, DAY, "open")
    assert surname.child_ids == [str(relative)]
    # Stored sealed: the alerts' rows, read without keys, do not name the child.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM oversight_misusealert")
        stored = " ".join(str(v) for row in cursor.fetchall() for v in row)
    assert str(relative) not in stored and relative.hex not in stored
    assert "sharing their surname" in surname.reason
    # One e-mail to the school's privacy officer, saying how many and nothing else.
    (sent,) = mail.outbox
    assert sent.to == [actors.petra.email]
    assert "2 new misuse alerts" in sent.body
    assert actors.alice.email not in sent.body and str(relative) not in sent.body
    # The run is itself in the audit log.
    (ran,) = Event.objects.filter(action=detection.RUN)
    assert ran.principal == ""


def test_a_day_is_judged_once_however_often_the_job_runs(actors: Actors) -> None:
    alice = Actor.of(actors.alice)
    event(alice, activity.VIEW, at(DAY, 11), child_id=uuid.uuid4(), signals="same_address")
    first = detection.run(now=RUN_AT, day=DAY)
    again = detection.run(now=RUN_AT, day=DAY)
    assert [j.queued for j in first] == [1]
    assert [j.already for j in again] == [True]
    assert MisuseAlert.objects.count() == 1
    assert DetectionRun.objects.get(day=DAY).alerts == 1


def test_missed_nights_are_caught_up_oldest_first_and_a_day_not_over_is_refused(
    actors: Actors,
) -> None:
    alice = Actor.of(actors.alice)
    for back in (2, 1, 0):
        day = DAY - dt.timedelta(days=back)
        event(alice, activity.VIEW, at(day, 11), child_id=uuid.uuid4(), signals="same_address")
    detection.run(now=RUN_AT - dt.timedelta(days=3), day=DAY - dt.timedelta(days=4))
    judged = detection.run(now=RUN_AT)
    days = [j.day for j in judged]
    assert days == sorted(days) and days[-1] == DAY and len(days) == detection.CATCH_UP_DAYS - 1
    assert MisuseAlert.objects.filter(kind="same_surname_or_address").count() == 3
    assert detection.run(now=RUN_AT) == []
    with pytest.raises(ValueError, match="cannot be judged before it has ended"):
        detection.run(now=RUN_AT, day=DAY + dt.timedelta(days=1))


def test_low_and_slow_access_that_goes_on_stays_one_alert(actors: Actors) -> None:
    """Two new children each weekday that nobody is involved with, for a fortnight and on:
    one case, whose alert grows each day it goes on, until the officer reviews it."""
    alice = Actor.of(actors.alice)
    ordinary_weeks(alice, days=41, per_day=2)
    for back in range(13, -6, -1):
        day = DAY - dt.timedelta(days=back)
        if day.weekday() >= 5:
            continue
        for n in range(2):
            event(alice, activity.VIEW, at(day, 14, n), child_id=uuid.uuid4())
    for offset in range(3):  # Wednesday to Friday
        day = DAY + dt.timedelta(days=offset)
        detection.run(now=RUN_AT + dt.timedelta(days=offset), day=day)
    (alert,) = MisuseAlert.objects.filter(kind="low_and_slow")
    assert (alert.first_day, alert.last_day) == (DAY, DAY + dt.timedelta(days=2))
    assert len(alert.child_ids) == 6  # each day's first looks
    assert alert.count == 20  # two a weekday in the fortnight to Friday (ten weekdays)
    # Once reviewed, the pattern going on (on Monday) is a new alert.
    MisuseAlert.objects.filter(pk=alert.pk).update(status="reviewed")
    monday = DAY + dt.timedelta(days=5)
    detection.run(now=RUN_AT + dt.timedelta(days=5), day=monday)
    assert sorted(a.first_day for a in MisuseAlert.objects.filter(kind="low_and_slow")) == [
        DAY,
        monday,
    ]


def test_emergency_access_is_not_queued_twice(actors: Actors) -> None:
    """Each emergency access has its own immediate alert and review already."""
    alice = Actor.of(actors.alice)
    event(alice, activity.EMERGENCY, at(DAY, 11), child_id=uuid.uuid4())
    (judged,) = detection.run(now=RUN_AT, day=DAY)
    assert (judged.alerts, judged.queued) == (1, 0)
    assert not MisuseAlert.objects.exists()


def test_without_the_audit_log_no_day_is_judged_and_nothing_is_kept(actors: Actors) -> None:
    alice = Actor.of(actors.alice)
    event(alice, activity.VIEW, at(DAY, 11), child_id=uuid.uuid4(), signals="same_address")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_head RENAME TO audit_head_away")
    try:
        with pytest.raises(AuditUnavailable):
            detection.run(now=RUN_AT, day=DAY)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_head_away RENAME TO audit_head")
    assert not MisuseAlert.objects.exists() and not DetectionRun.objects.exists()
    assert [j.queued for j in detection.run(now=RUN_AT, day=DAY)] == [1]


def test_the_command_judges_and_says_what_it_did(actors: Actors) -> None:
    alice = Actor.of(actors.alice)
    yesterday = timezone.now().astimezone(LONDON).date() - dt.timedelta(days=1)
    event(alice, activity.VIEW, at(yesterday, 11), child_id=uuid.uuid4(), signals="same_address")
    day = yesterday.isoformat()
    out = run_cli("oversight", "detect", "--day", day).stdout
    assert f"{day}: 1 access, 1 alert found, 1 new in the privacy officers' queues" in out
    assert "judged already" in run_cli("oversight", "detect", "--day", day).stdout
    tomorrow = (yesterday + dt.timedelta(days=2)).isoformat()
    refused = run_cli("oversight", "detect", "--day", tomorrow, check=False)
    assert refused.returncode == 2 and "cannot be judged before it has ended" in refused.stderr
    bad = run_cli("oversight", "detect", "--day", "31/12/2026", check=False)
    assert bad.returncode == 2 and "is not a date as YYYY-MM-DD" in bad.stderr
