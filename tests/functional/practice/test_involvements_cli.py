"""`contactpoint involvements expire` in a process of its own, against real involvements."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from contactpoint.practice.models import Alert
from contactpoint.registry.models import Child, Involvement
from tests.support.actors import Actors
from tests.support.alerts import of_kind
from tests.support.children import an_involvement
from tests.support.cli import run_cli

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def involvement(actors: Actors, n: int, confirmed: dt.date) -> Involvement:
    child = Child.objects.create(id=uuid.uuid4(), cpid=f"CP-X-{n}")
    return an_involvement(child, actors.school_a, "school_nurse", last_confirmed=confirmed)


def test_expire_reminds_once_then_ends_and_a_dry_run_changes_nothing(actors: Actors) -> None:
    due = involvement(actors, 1, dt.date(2024, 12, 20))  # 23 months before the day below
    old = involvement(actors, 2, dt.date(2024, 11, 1))  # over 24 months
    fresh = involvement(actors, 3, dt.date(2026, 11, 1))
    day = "--today=2026-11-25"

    dry = run_cli("involvements", "expire", "--dry-run", day)
    assert "1 involvement(s) would be reminded" in dry.stdout
    assert "1 involvement(s) would be expired" in dry.stdout
    assert not Alert.objects.exists()
    assert Involvement.objects.filter(end_date__isnull=True).count() == 3

    done = run_cli("involvements", "expire", day)
    assert "1 involvement(s) were reminded" in done.stdout
    again = run_cli("involvements", "expire", day)
    assert "0 involvement(s) were reminded" in again.stdout
    assert "0 involvement(s) were expired" in again.stdout
    for row in (due, old, fresh):
        row.refresh_from_db()
    assert (old.end_date, old.ending) == (dt.date(2026, 11, 25), "expired")
    assert due.end_date is None and due.reminded_on == dt.date(2026, 11, 25)
    assert fresh.end_date is None and fresh.reminded_on is None
    # alice and bob, the practitioners of school A, are told about each once.
    assert len(of_kind("confirm_due", recipient=actors.alice)) == 1
    assert len(of_kind("expired", recipient=actors.bob)) == 1


def test_a_wrong_date_is_a_clear_error(actors: Actors) -> None:
    wrong = run_cli("involvements", "expire", "--today=25/11/2026", check=False)
    assert wrong.returncode == 2
    assert "--today: '25/11/2026' is not a date" in wrong.stderr
