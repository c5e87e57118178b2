"""A search's round trips to the database: each costs a PostgreSQL server's time and the
network's, so how many a search makes is a property of the design, not of the machine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from contactpoint.access.users import Actor
from contactpoint.search import service
from contactpoint.search.criteria import Criteria
from tests.support.actors import Actors
from tests.support.children import PEOPLE, load_children

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

# Quotas (one transaction: lock rows, expired and pruned attempts, the count, the new
# attempts), the children the keys reach, which are shielded, the active model, the
# records, the involvements the audit signals read, and the audit write with the findings.
MOST_STATEMENTS = 26


def amelia() -> Criteria:
    given, family, born, _sex, _postcode = PEOPLE["amelia"]
    return Criteria(
        "starting_work", dt.date.fromisoformat(born), family_name=family, given_name=given
    )


def test_a_search_finds_shows_and_audits_in_a_bounded_number_of_statements(
    feeds: Path, actors: Actors
) -> None:
    children = load_children(feeds)
    alice = Actor.of(actors.alice).principal
    service.search(alice, amelia())  # the user's side of the signals, read once a minute
    with (
        CaptureQueriesContext(connections["default"]) as made,
        CaptureQueriesContext(connections["keys"]) as keys,
    ):
        result = service.search(alice, amelia())
    assert [c.child_id for c in result.candidates] == [children["amelia"].pk]
    assert result.candidates[0].given_name == "Amelia"
    assert len(made.captured_queries) <= MOST_STATEMENTS, [
        q["sql"][:60] for q in made.captured_queries
    ]
    # The children's data keys once (not again for the summaries), and the audit log's
    # month key, read on every append (audit.log.period_key).
    assert len(keys.captured_queries) == 2


def test_a_child_shown_is_summarised_from_its_golden_record(feeds: Path, actors: Actors) -> None:
    children = load_children(feeds)
    alice = Actor.of(actors.alice).principal
    shown = service.search(alice, amelia()).candidates
    again = service.again([children["amelia"].pk])
    assert shown == again
