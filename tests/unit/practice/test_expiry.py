"""The nightly expiry of involvements, against real involvements and alerts: reminded once
a month before 24 months unconfirmed, expired at 24, and a dry run that changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from contactpoint.access.standing import add_months
from contactpoint.practice.involvements import expiry
from contactpoint.practice.models import Alert
from contactpoint.registry.models import Involvement
from tests.support.actors import Actors
from tests.support.alerts import of_kind
from tests.support.children import a_child, an_involvement

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

TODAY = dt.date(2026, 11, 20)


def confirmed(actors: Actors, n: int, months_ago: int, days: int = 0) -> Involvement:
    last = add_months(TODAY, -months_ago) + dt.timedelta(days=days)
    return an_involvement(a_child(n), actors.school_a, "school", last_confirmed=last)


def alerts_of(kind: Alert.Kind) -> set[tuple[str, object]]:
    return {(a.recipient.email, o.involvement_id) for a, o in of_kind(kind)}


def test_an_involvement_near_24_months_is_reminded_once_to_its_organisations_practitioners(
    actors: Actors,
) -> None:
    due = confirmed(actors, 1, 23, days=-3)
    recent = confirmed(actors, 2, 22)
    assert expiry.run(TODAY) == expiry.Report(reminded=1, expired=0)
    assert alerts_of(Alert.Kind.CONFIRM_DUE) == {
        (actors.alice.email, due.pk),
        (actors.bob.email, due.pk),
    }
    assert Involvement.objects.get(pk=due.pk).reminded_on == TODAY
    assert Involvement.objects.get(pk=recent.pk).reminded_on is None
    # The next night: nothing new to remind, nothing expired yet.
    assert expiry.run(TODAY + dt.timedelta(days=1)) == expiry.Report(reminded=0, expired=0)
    assert len(of_kind(Alert.Kind.CONFIRM_DUE)) == 2


def test_an_involvement_unconfirmed_for_24_months_expires_and_leaves_the_record(
    actors: Actors,
) -> None:
    old = an_involvement(
        a_child(3),
        actors.school_a,
        "school",
        last_confirmed=add_months(TODAY, -24),
        lead_professional=True,
    )
    assert expiry.run(TODAY) == expiry.Report(reminded=0, expired=1)
    ended = Involvement.objects.get(pk=old.pk)
    assert ended.end_date == TODAY
    assert ended.ending == Involvement.Ending.EXPIRED
    assert not ended.lead_professional
    assert alerts_of(Alert.Kind.EXPIRED) == {
        (actors.alice.email, old.pk),
        (actors.bob.email, old.pk),
    }
    assert expiry.run(TODAY) == expiry.Report(reminded=0, expired=0)


def test_a_dry_run_counts_what_would_happen_and_changes_nothing(actors: Actors) -> None:
    confirmed(actors, 4, 23, days=-1)
    confirmed(actors, 5, 25)
    assert expiry.run(TODAY, dry_run=True) == expiry.Report(reminded=1, expired=1)
    assert not Alert.objects.exists()
    assert not Involvement.objects.filter(end_date__isnull=False).exists()
    assert not Involvement.objects.filter(reminded_on__isnull=False).exists()
