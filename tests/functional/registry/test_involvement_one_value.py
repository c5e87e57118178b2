"""An involvement's facts, link and start day are one sealed value of a fixed size, and
migration 0019 joins the three sealed values of a registry written before into it
(docs/adr/0013-lean-registry-layout.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from importlib import import_module
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from contactpoint.access.users import Actor
from contactpoint.keystore import service as keys
from contactpoint.practice import involvements
from contactpoint.practice.involvements import Details
from contactpoint.registry import involvement_facts
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.involvement_facts import InvolvementFacts, facts_of, with_links
from contactpoint.registry.models import Involvement
from tests.support.actors import Actors
from tests.support.children import found, load_children
from tests.support.migrations import migrated

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

THREE_VALUES = [("registry", "0018_short_record_refs")]
JOINED = [("registry", "0019_involvement_one_sealed_value")]
SEALED_SIZE = 1 + 12 + involvement_facts.LAYOUT.size + 16  # version, nonce, value, tag
STARTED = dt.date(2020, 9, 1)


def _opened() -> dict[uuid.UUID, tuple[InvolvementFacts, int, int | None, dt.date | None]]:
    """Each involvement whose key exists: facts, organisation, practitioner, start day."""
    rows = with_links(Involvement.objects.all())
    ciphers = ciphers_for({i.child_id for i in rows})
    facts = facts_of(rows)
    return {
        i.pk: (
            facts[i.pk],
            i.organisation_id,
            i.practitioner_id,
            involvement_facts.started(ciphers[i.child_id], i),
        )
        for i in rows
    }


def test_one_sealed_value_of_one_size_holds_facts_link_and_start_day(
    feeds: Path, actors: Actors
) -> None:
    children = load_children(feeds)
    charlie = Actor.of(actors.charlie)
    found(charlie, children["oliver"])
    sensitive = {"sensitive_category": "mental_health", "consent_basis": "parental_consent"}
    made = involvements.register(
        charlie, children["oliver"], Details("health_service", "Nurse", "2", **sensitive)
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM registry_involvement")
        columns = [c[0] for c in cursor.description]
        stored = [bytes(r[columns.index("facts")]) for r in cursor.fetchall()]
    assert "link" not in columns and "start_date" not in columns
    assert len(stored) == 9 and {len(v) for v in stored} == {SEALED_SIZE}
    facts, organisation, practitioner, start = _opened()[made.pk]
    assert facts == InvolvementFacts("health_service", "mental_health", "parental_consent")
    assert (organisation, start) == (actors.council_b.pk, timezone.localdate())
    assert practitioner is not None


def test_the_migration_joins_the_three_sealed_values_and_runs_again_to_the_same_end(
    feeds: Path, actors: Actors
) -> None:
    children = load_children(feeds)
    charlie = Actor.of(actors.charlie)
    found(charlie, children["oliver"])
    involvements.register(charlie, children["oliver"], Details("social_worker", "", "1"))
    purged = children["maya"].pk
    try:
        old = migrated(THREE_VALUES)  # going back seals them apart again
        model = old.get_model("registry", "Involvement")
        rows = list(model.objects.all())
        assert rows and all(r.link is not None and len(r.facts) > SEALED_SIZE for r in rows)
        feed_row = next(r for r in rows if r.child_id != purged and r.start_date is None)
        cipher = ciphers_for({feed_row.child_id})[feed_row.child_id]
        feed_row.start_date = cipher.seal(model, "start_date", feed_row.pk, STARTED.isoformat())
        feed_row.save()
        keys.destroy_data_keys([purged])
        joined_apps = migrated(JOINED)
        wanted = _opened()
        assert wanted[feed_row.pk][3] == STARTED
        # The state's model: the ids are as it stored them.
        joined_model = joined_apps.get_model("registry", "Involvement")
        assert joined_model.objects.filter(child_id=purged, facts__isnull=True).count() == 2
        joined = {i.pk: bytes(i.facts) for i in Involvement.objects.exclude(facts=None)}
        assert {len(v) for v in joined.values()} == {SEALED_SIZE}
        # Interrupted and run again, the migration leaves what it joined.
        migration = import_module(f"contactpoint.registry.migrations.{JOINED[0][1]}")
        with connection.schema_editor(atomic=False) as editor:
            migration.join(migrated(JOINED), editor)
        assert {i.pk: bytes(i.facts) for i in Involvement.objects.exclude(facts=None)} == joined
    finally:
        migrated()
    assert _opened() == wanted
    assert len(wanted) == 7 and {f.role for f, _, _, _ in wanted.values()} == {
        "gp",
        "school",
        "social_worker",
    }
