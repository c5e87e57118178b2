"""An emergency access names its child only by a keyed digest and a sealed id (ADR 0010):
a stolen database does not say which child had an emergency, nor which organisation's
staff looked at it. The record's access rule reads the digest; the privacy officer's
review and the alerts page open the sealed id; the migration converts rows written
before."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest

from contactpoint.access.users import Actor
from contactpoint.practice import emergency_refs
from contactpoint.practice.involvements import alerts, emergency
from contactpoint.practice.models import Alert, EmergencyAccess
from contactpoint.practice.record import View, record_for
from contactpoint.practice.relationships import in_emergency
from tests.support.actors import Actors, signed_in
from tests.support.alerts import naming
from tests.support.children import found, load_children
from tests.support.migrations import written_before
from tests.support.registry import raw_rows

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("practice", "0008_seal_contact_request_involvement")]
WHY = "The child did not come home from school and cannot be reached"
AT = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)


def stored_values(table: str) -> set[str]:
    return {str(v) for row in raw_rows(table) for v in row}


def test_an_emergency_access_and_its_alert_name_no_child_in_clear(
    feeds: Path, actors: Actors
) -> None:
    amelia = load_children(feeds)["amelia"]
    alice = Actor.of(actors.alice)
    found(alice, amelia)
    access = emergency.open_access(alice, amelia, "missing", WHY)
    ids = {str(amelia.pk), amelia.pk.hex}
    assert not ids & stored_values("practice_emergencyaccess")
    assert not ids & stored_values("practice_alert")
    stored = EmergencyAccess.objects.get()
    assert emergency_refs.child_id_of(stored) == amelia.pk
    assert bytes(stored.holder) == emergency_refs.holder(amelia.pk, actors.alice.pk)
    ((_, told),) = naming(access.pk)
    assert told.child_id == amelia.pk
    # The rule is the user's own access, as before: not their colleague's.
    assert record_for(alice.principal, amelia).view is View.FULL
    assert in_emergency(alice.principal, amelia.pk)
    assert not in_emergency(Actor.of(actors.bob).principal, amelia.pk)
    # The privacy officer still sees which child, and the alert still names it.
    petra = signed_in(actors.petra)
    assert amelia.cpid in petra.get("/emergency-access").content.decode()
    assert amelia.cpid in petra.get("/alerts").content.decode()


def test_the_migration_seals_an_emergency_accesss_child(feeds: Path, actors: Actors) -> None:
    amelia = load_children(feeds)["amelia"]

    def make(old: Any) -> tuple[uuid.UUID, uuid.UUID]:
        access = old.get_model("practice", "EmergencyAccess").objects.create(
            user_id=actors.alice.pk,
            organisation_id=actors.school_a.pk,
            child_id=amelia.pk,
            granted_at=AT,
            expires_at=AT + dt.timedelta(days=36500),
            outcome="not_justified",
        )
        told = old.get_model("practice", "Alert").objects.create(
            recipient_id=actors.petra.pk,
            about=alerts.seal_about(
                uuid.UUID(int=2), alerts.About("emergency_access", amelia.pk, None)
            ),
            id=uuid.UUID(int=2),
            child_id=amelia.pk,
            emergency_id=access.pk,
        )
        return access.pk, told.pk

    access, told = written_before(BEFORE, make)
    stored = EmergencyAccess.objects.get(pk=access)
    assert emergency_refs.child_id_of(stored) == amelia.pk
    assert in_emergency(Actor.of(actors.alice).principal, amelia.pk)
    alert = Alert.objects.get(pk=told)
    assert alerts.about(alert) == alerts.About("emergency_access", amelia.pk, None, access)
    ids = {str(amelia.pk), amelia.pk.hex}
    assert not ids & stored_values("practice_emergencyaccess")
    assert not ids & stored_values("practice_alert")
