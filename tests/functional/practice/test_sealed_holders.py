"""A finding and a statutory access name their child only by keyed digests, and a
rectification request seals which field, source and organisation it is about (ADR 0010):
a stolen database does not say who searched for which child, which team's staff read which
child's archived record, nor who holds a record of a child. The record's access rules read
the digests, as strict as before; the migrations convert rows written before."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from contactpoint.access.users import Actor
from contactpoint.practice import retention
from contactpoint.practice.families import rectification
from contactpoint.practice.holders import STATUTORY, finding
from contactpoint.practice.models import Finding, RectificationRequest, StatutoryAccess
from contactpoint.practice.record import may_open
from contactpoint.registry.children import ciphers_for
from tests.support.actors import Actors, signed_in
from tests.support.children import found, load_children
from tests.support.migrations import written_before
from tests.support.registry import raw_rows

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("practice", "0012_seal_alert_and_handover_refs")]
AT = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
TABLE = "practice_rectificationrequest"
OVERHEAD = 29  # what sealing adds to a value: a format byte, the nonce and the tag


def stored_values(table: str) -> set[str]:
    return {str(v) for row in raw_rows(table) for v in row}


def test_a_finding_names_neither_child_nor_principal_and_opens_only_the_finders_record(
    feeds: Path, actors: Actors
) -> None:
    amelia = load_children(feeds)["amelia"]
    alice = Actor.of(actors.alice)
    found(alice, amelia)
    stored = stored_values("practice_finding")
    assert not {str(amelia.pk), amelia.pk.hex, str(actors.alice.pk)} & stored
    assert not any("user:" in v for v in stored)
    row = Finding.objects.get()
    assert bytes(row.holder) == finding(amelia.pk, alice.principal.key)
    # The rule is as strict as before: the finder, within the ten hours; nobody else.
    assert may_open(alice.principal, amelia)
    assert not may_open(Actor.of(actors.bob).principal, amelia)
    assert not may_open(Actor.of(actors.charlie).principal, amelia)
    Finding.objects.update(found_at=timezone.now() - dt.timedelta(hours=11))
    assert not may_open(alice.principal, amelia)


def test_a_retention_run_deletes_the_findings_past_their_ten_hours(
    feeds: Path, actors: Actors
) -> None:
    children = load_children(feeds)
    found(Actor.of(actors.alice), children["amelia"])
    found(Actor.of(actors.bob), children["amelia"])
    Finding.objects.filter(pk=Finding.objects.order_by("pk").first().pk).update(  # type: ignore[union-attr]
        found_at=timezone.now() - dt.timedelta(hours=11)
    )
    retention.run(timezone.localdate(), dry_run=True)
    assert Finding.objects.count() == 2
    retention.run(timezone.localdate())
    assert Finding.objects.count() == 1
    assert may_open(Actor.of(actors.bob).principal, children["amelia"])


def test_the_migration_names_findings_and_statutory_accesses_by_holder(
    feeds: Path, actors: Actors
) -> None:
    amelia = load_children(feeds)["amelia"]
    alice = Actor.of(actors.alice)
    cipher = ciphers_for({amelia.pk})[amelia.pk]

    def make(old: Any) -> uuid.UUID:
        old.get_model("practice", "Finding").objects.create(
            principal=alice.principal.key, child_id=amelia.pk, found_at=timezone.now()
        )
        row_id = uuid.uuid4()
        old.get_model("practice", "StatutoryAccess").objects.create(
            id=row_id,
            child_id=amelia.pk,
            user_id=actors.ian.pk,
            organisation_id=actors.council_a.pk,
            reason=cipher.seal_fixed(StatutoryAccess, "reason", row_id, "child_death_review", 24),
            granted_at=AT,
            expires_at=AT + dt.timedelta(hours=8),
        )
        return row_id

    access_id = written_before(BEFORE, make)
    assert may_open(alice.principal, amelia)
    assert not may_open(Actor.of(actors.bob).principal, amelia)
    access = StatutoryAccess.objects.get(pk=access_id)
    assert bytes(access.holder) == STATUTORY.holder(amelia.pk, actors.ian.pk)
    assert STATUTORY.child_id_of(access) == amelia.pk
    assert cipher.open_fixed(access, "reason") == "child_death_review"
    ids = {str(amelia.pk), amelia.pk.hex}
    assert not ids & stored_values("practice_finding")
    assert not ids & stored_values("practice_statutoryaccess")


def test_a_rectification_request_seals_its_field_source_and_organisation(
    feeds: Path, actors: Actors
) -> None:
    amelia = load_children(feeds)["amelia"]
    made = rectification.record(
        Actor.of(actors.ian), amelia, "family_name", "Hartley-Okonkwo", "parent_or_carer"
    )
    assert made.source is not None and made.organisation is not None
    (row,) = raw_rows(TABLE)
    assert "family_name" not in row
    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(cursor, TABLE)
    columns = {c.name for c in described}
    assert "about" in columns
    assert not {"field", "source_id", "source_as_at", "organisation_id"} & columns
    sealed = RectificationRequest.objects.get()
    assert len(bytes(sealed.about)) == rectification.ABOUT_SIZE + OVERHEAD
    # The queue and the message still say which field, source and organisation.
    (shown,) = rectification.with_about(rectification.queue(Actor.of(actors.ian)))
    assert (shown.field, shown.source, shown.source_as_at, shown.organisation) == (
        "family_name",
        made.source,
        made.source_as_at,
        made.organisation,
    )
    page = signed_in(actors.ian).get("/rectification").content.decode()
    assert "Family name" in page and made.organisation.name in page


def test_the_migration_seals_a_rectification_requests_field_and_source(
    feeds: Path, actors: Actors
) -> None:
    amelia = load_children(feeds)["amelia"]
    made = rectification.record(
        Actor.of(actors.ian), amelia, "family_name", "Hartley-Okonkwo", "parent_or_carer"
    )
    assert made.source is not None and made.organisation is not None
    cipher = ciphers_for({amelia.pk})[amelia.pk]
    RectificationRequest.objects.all().delete()

    def make(old: Any) -> uuid.UUID:
        row_id = uuid.uuid4()
        old.get_model("practice", "RectificationRequest").objects.create(
            id=row_id,
            child_id=amelia.pk,
            area_id=actors.area_a.pk,
            field="postcode",
            source_id=made.source.pk,  # type: ignore[union-attr]
            source_as_at=AT.date(),
            organisation_id=made.organisation.pk,  # type: ignore[union-attr]
            corrected_value=cipher.seal(RectificationRequest, "corrected_value", row_id, "NW1"),
            asked_by="young_person",
            recorded_by_id=actors.ian.pk,
            recorded_at=AT,
        )
        return row_id

    request_id = written_before([("practice", "0013_name_findings_and_statutory_by_holder")], make)
    (opened,) = rectification.with_about(RectificationRequest.objects.filter(pk=request_id))
    assert (opened.field, opened.source, opened.source_as_at, opened.organisation) == (
        "postcode",
        made.source,
        AT.date(),
        made.organisation,
    )
    assert rectification.value_of(opened) == "NW1"
    columns = {c.name for c in RectificationRequest._meta.concrete_fields}
    assert not {"field", "source", "source_as_at", "organisation"} & columns


def test_going_back_opens_the_rows_again_and_forgets_the_findings(
    feeds: Path, actors: Actors
) -> None:
    amelia = load_children(feeds)["amelia"]
    found(Actor.of(actors.alice), amelia)
    made = rectification.record(
        Actor.of(actors.ian), amelia, "family_name", "Hartley-Okonkwo", "parent_or_carer"
    )
    seen: dict[str, Any] = {}

    def look(old: Any) -> None:
        request = old.get_model("practice", "RectificationRequest").objects.get()
        seen["request"] = (request.field, request.source_id, request.organisation_id)
        seen["findings"] = old.get_model("practice", "Finding").objects.count()

    written_before(BEFORE, look)
    assert made.source is not None and made.organisation is not None
    assert seen == {
        "request": ("family_name", made.source.pk, made.organisation.pk),
        "findings": 0,
    }
    (opened,) = rectification.with_about(RectificationRequest.objects.all())
    assert (opened.field, opened.source) == ("family_name", made.source)
