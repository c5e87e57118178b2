"""What a bulk load's chunk locks while it inserts (ingest/bulk/write.py `_lock`): writers
of the same load overlap, a row load of the same sources and a second writer of the same
chunk wait."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
from django.db import OperationalError, connection, connections, transaction

from contactpoint.ingest.bulk.write import _lock
from contactpoint.registry.models import Source
from contactpoint.registry.sources import national_source

pytestmark = pytest.mark.django_db(transaction=True)


def in_another_session(step: Callable[[], object]) -> str:
    """Run `step` in a transaction of its own connection, waiting at most 1 s for a lock;
    return "done" or "waited" (it gave up on a lock)."""
    outcome: list[str] = []

    def run() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '1s'")
            with transaction.atomic():
                step()
            outcome.append("done")
        except OperationalError:
            outcome.append("waited")
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return outcome[0]


def test_writers_overlap_while_a_row_load_and_the_same_chunk_wait() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time (immediate transactions)")
    source = national_source("nhs_demographics").pk
    chunk = uuid.uuid4()
    with transaction.atomic():
        _lock([source], chunk)
        assert in_another_session(lambda: _lock([source], uuid.uuid4())) == "done"
        assert in_another_session(lambda: _lock([source], chunk)) == "waited"
        row_load = Source.objects.select_for_update().filter(pk=source)
        assert in_another_session(lambda: list(row_load)) == "waited"
