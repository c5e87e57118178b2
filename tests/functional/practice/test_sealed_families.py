"""Families' rights rows written before sealing (ADR 0010): the migration turns a released
enquiry's principal, child and day into its keyed digest, which the report looks up."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from contactpoint.practice.families import subject_access_history
from contactpoint.practice.models import EnquiryRelease
from tests.support.actors import Actors
from tests.support.children import load_children
from tests.support.registry import raw_rows

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("practice", "0009_seal_emergency_access_child")]
AT = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 2)


def migrate_back_and_forth(make: Callable[[Any], dict[str, uuid.UUID]]) -> dict[str, uuid.UUID]:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        made = make(old)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    return made


def test_the_migrations_seal_releases_and_requests(feeds: Path, actors: Actors) -> None:
    children = load_children(feeds)
    amelia = children["amelia"]
    principal = f"user:{actors.charlie.pk}"

    def make(old: Any) -> dict[str, uuid.UUID]:
        get = old.get_model
        release = get("practice", "EnquiryRelease").objects.create(
            principal=principal,
            child_id=amelia.pk,
            day=DAY,
            released_by_id=actors.ian.pk,
            released_at=AT,
        )
        return {"release": release.pk}

    made = migrate_back_and_forth(make)
    release = EnquiryRelease.objects.get(pk=made["release"])
    tag = subject_access_history.enquiry_tag(amelia.pk, (principal, DAY))
    assert bytes(release.enquiry) == tag
    assert subject_access_history.released_of(amelia.pk, [(principal, DAY)]) == {(principal, DAY)}
    released = {str(v) for r in raw_rows("practice_enquiryrelease") for v in r}
    assert not {principal, str(amelia.pk), amelia.pk.hex, DAY.isoformat()} & released
