"""Without CONTACTPOINT_REPLICA_URL (the default, and SQLite's only way) every read stays
on the primary (docs/adr/0014-read-replica-for-stale-reads.md). Apart from
test_replica.py, whose tests all have a replica."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext

from contactpoint.registry.models import Child
from contactpoint.registry.replica import REPLICA_ALIAS
from contactpoint.search import service
from tests.support.children import asked, load_children
from tests.support.database import STALE_TABLES, tables


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_without_a_replica_every_read_stays_on_the_primary(children: dict[str, Child]) -> None:
    assert REPLICA_ALIAS not in settings.DATABASES and REPLICA_ALIAS not in connections
    with CaptureQueriesContext(connections["default"]) as primary:
        assert service.find(asked("amelia")).candidates
    assert all(table in tables(primary) for table in STALE_TABLES)
