"""A search is counted against the quota before it runs, not after."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contactpoint.registry.models import Child
from tests.support.actors import Actors, signed_in
from tests.support.audit import audit_store_broken
from tests.support.children import load_children
from tests.support.pages import AMELIA

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


def test_a_search_counts_before_it_runs_even_when_it_then_fails(
    children: dict[str, Child], actors: Actors, settings: Any
) -> None:
    settings.CONTACTPOINT_SEARCHES_PER_HOUR = 2
    alice = signed_in(actors.alice)
    with audit_store_broken():
        assert alice.post("/search", AMELIA).status_code == 503  # ran, then failed
    assert alice.post("/search", AMELIA).status_code == 303  # found: to the results
    assert alice.post("/search", AMELIA).status_code == 429
