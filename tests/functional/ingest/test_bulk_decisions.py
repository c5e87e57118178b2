"""A bulk load's automatic decisions are its records' own columns: no LinkDecision for a
record it links or founds a child with, the model version on its files (ADR 0013)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from contactpoint.ingest.bulk.load import bulk_load_folder
from contactpoint.ingest.models import LoadedFile
from contactpoint.linkage import review, store
from contactpoint.linkage.models import LinkDecision
from contactpoint.registry.models import SourceRecord
from tests.support.feeds import child_row, write_feed
from tests.support.migrations import back_to
from tests.support.registry import records_from

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "keys"], transaction=True),
]

BEFORE = [("ingest", "0001_initial")]


@pytest.fixture
def loaded(feeds: Path) -> Path:
    """Ola founds a child from her GP record, two more records of hers link to it, and a
    record of someone else with neither an identifier nor a given name waits."""
    write_feed(feeds, "nhs_demographics", [child_row("N1"), child_row("N2", nhs_number="")])
    write_feed(feeds, "school_census", [child_row("S1", upn="B801200005001")])
    stranger = {"given_name": "", "family_name": "Zed", "date_of_birth": "2010-01-01"}
    write_feed(feeds, "child_benefit", [child_row("C1", nhs_number="", sex="", **stranger)])
    bulk_load_folder(feeds)
    return feeds


def decided() -> set[tuple[str, object]]:
    return set(LinkDecision.objects.values_list("action", "source_record_id"))


def test_a_bulk_load_writes_a_decision_only_for_a_record_that_waits(loaded: Path) -> None:
    linked = SourceRecord.objects.filter(child__isnull=False)
    waiting = SourceRecord.objects.filter(child__isnull=True)
    assert sorted(linked.values_list("method", flat=True)) == ["model", "model", "new_child"]
    assert waiting.count() == 1
    assert decided() == {("hold", pk) for pk in waiting.values_list("pk", flat=True)}
    active = store.active().record
    assert {f.model_id for f in LoadedFile.objects.all()} == {active.pk}

    school = records_from("school_census").get(child__isnull=False)
    decision, _ = review.unlink(str(school.pk), "Alice Ward")  # undone by its record

    school.refresh_from_db()
    assert (decision.action, school.child_id, school.status) == ("unlink", None, "pending")


def test_the_migration_deletes_the_decisions_that_repeat_their_record(loaded: Path) -> None:
    linked = set(SourceRecord.objects.filter(child__isnull=False).values_list("pk", flat=True))
    holds = decided()
    back_to(BEFORE)  # as written before: one a record
    with connection.cursor() as cursor:
        cursor.execute("SELECT source_record_id, weight FROM linkage_linkdecision")
        rows = cursor.fetchall()
    assert len(rows) == len(holds) + len(linked)
    weighed = next(r for r in LinkDecision.objects.filter(action="auto_link"))
    weighed.weight = 12.5  # the row loader's: the pair's weight is not on the record
    weighed.save(update_fields=["weight"])

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert decided() == holds | {("auto_link", weighed.source_record_id)}
    active = store.active().record
    assert {f.model_id for f in LoadedFile.objects.all()} == {active.pk}
