"""Involvements not confirmed for 24 months expire and leave the record; a month before,
the practitioners of each are reminded to confirm it (once).

`contactpoint involvements expire` runs this nightly; it is safe to run any number of
times (a reminded involvement is not reminded again until it is confirmed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from contactpoint.access.standing import add_months
from contactpoint.practice.involvements import alerts
from contactpoint.practice.models import Alert
from contactpoint.registry.involvement_facts import with_links
from contactpoint.registry.models import Involvement

EXPIRE_MONTHS = 24
REMIND_MONTHS = 23


@dataclass(frozen=True)
class Report:
    reminded: int
    expired: int


def run(today: dt.date, *, dry_run: bool = False) -> Report:
    """Remind and expire as of `today`; with dry_run, only count what would happen."""
    open_ones = Involvement.objects.filter(end_date__isnull=True)
    expiring = open_ones.filter(last_confirmed__lte=add_months(today, -EXPIRE_MONTHS))
    due = open_ones.filter(
        last_confirmed__lte=add_months(today, -REMIND_MONTHS),
        last_confirmed__gt=add_months(today, -EXPIRE_MONTHS),
        reminded_on__isnull=True,
    )
    if dry_run:
        return Report(due.count(), expiring.count())
    reminded = expired = 0
    # Whom to tell is sealed under each child's key: opened for the night's rows at once (a
    # child whose key is gone has no one left to remind).
    for involvement in with_links(due):
        with transaction.atomic():
            alerts.raise_alert(
                alerts.people_of(involvement),
                Alert.Kind.CONFIRM_DUE,
                child_id=involvement.child_id,
                involvement=involvement,
            )
            Involvement.objects.filter(pk=involvement.pk).update(reminded_on=today)
        reminded += 1
    expiring_rows = list(expiring)
    told = {i.pk for i in with_links(expiring_rows)}
    for involvement in expiring_rows:
        with transaction.atomic():
            Involvement.objects.filter(pk=involvement.pk, end_date__isnull=True).update(
                end_date=today, ending=Involvement.Ending.EXPIRED, lead_professional=False
            )
            alerts.raise_alert(
                alerts.people_of(involvement) if involvement.pk in told else [],
                Alert.Kind.EXPIRED,
                child_id=involvement.child_id,
                involvement=involvement,
            )
        expired += 1
    return Report(reminded, expired)
