"""A read replica of the registry (docs/adr/0014-read-replica-for-stale-reads.md).

On PostgreSQL the replica is a second, read-only connection to the test database, set up
by the settings' own CONTACTPOINT_REPLICA_URL handling: what it reads is what the primary
committed, and any write sent to it fails. The queries each connection ran show where each
read went."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import DatabaseError, connections, transaction
from django.test.utils import CaptureQueriesContext

from contactpoint.audit.models import Event
from contactpoint.practice.holders import finding
from contactpoint.practice.models import Finding
from contactpoint.registry import shield_tags
from contactpoint.registry.models import Child
from contactpoint.registry.replica import REPLICA_ALIAS
from contactpoint.search import service
from tests.support.actors import Actors, signed_in
from tests.support.children import PEOPLE, asked, load_children
from tests.support.cli import run_cli
from tests.support.database import STALE_TABLES, replica_of_test_database, tables

WITH_REPLICA = ["default", "keys", REPLICA_ALIAS]


@pytest.fixture(scope="module")
def replica(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[str]:
    """The replica alias for this module's tests (made before their database access is
    checked, which names the databases each test may use)."""
    if connections["default"].vendor != "postgresql":
        pytest.skip("a read replica needs PostgreSQL")
    with replica_of_test_database() as alias, django_db_blocker.unblock():  # type: ignore[attr-defined]
        yield alias


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


@pytest.mark.django_db(databases=WITH_REPLICA, transaction=True)
def test_a_search_reads_its_candidates_from_the_replica_and_writes_the_primary(
    replica: str, children: dict[str, Child], actors: Actors
) -> None:
    alice = actors.alice.principal(second_factor=True)
    with (
        CaptureQueriesContext(connections[replica]) as there,
        CaptureQueriesContext(connections["default"]) as primary,
    ):
        result = service.search(alice, asked("amelia"))
    assert [c.child_id for c in result.candidates] == [children["amelia"].pk]
    stale = tables(there)
    assert all(table in stale for table in STALE_TABLES)
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in there.captured_queries)
    # The quota, shielding, the audit log and the finding that opens the record: primary.
    for kept in ("access_throttle", "registry_shieldtag", "audit_", "practice_finding"):
        assert kept not in stale
        assert kept in tables(primary)
    assert not any(table in tables(primary) for table in STALE_TABLES)
    assert Event.objects.filter(action=service.SEARCH, child_tag__isnull=False).count() == 1
    assert Finding.objects.filter(holder=finding(children["amelia"].pk, alice.key)).count() == 1


@pytest.mark.django_db(databases=WITH_REPLICA, transaction=True)
def test_a_shielded_child_is_known_from_the_primary(
    replica: str, children: dict[str, Child]
) -> None:
    shield_tags.shield([children["maya"].pk])
    with CaptureQueriesContext(connections[replica]) as there:
        (found,) = service.find(asked("maya")).candidates
    assert found.shielded and found.district is None
    assert "registry_shieldtag" not in tables(there) and "registry_child" in tables(there)


@pytest.mark.django_db(databases=WITH_REPLICA, transaction=True)
def test_sign_in_sessions_and_opening_a_record_never_touch_the_replica(
    replica: str, children: dict[str, Child], actors: Actors
) -> None:
    given, family, born, _sex, _postcode = PEOPLE["jacob"]
    year, month, day = born.split("-")
    form = {"purpose": "starting_work", "given_name": given, "family_name": family}
    form |= {"dob-day": day, "dob-month": month, "dob-year": year}
    alice = signed_in(actors.alice)
    with CaptureQueriesContext(connections[replica]) as searching:
        response = alice.post("/search", form)
    assert response.status_code == 303
    assert "registry_child" in tables(searching) and "session" not in tables(searching)
    with CaptureQueriesContext(connections[replica]) as opening:
        page = alice.get(f"/children/{children['jacob'].cpid}")
        results = alice.get(str(response["Location"]))
    assert page.status_code == 200 and "Jacob" in page.content.decode()
    assert results.status_code == 200
    assert opening.captured_queries == []


@pytest.mark.django_db(databases=WITH_REPLICA, transaction=True)
def test_reads_inside_a_transaction_stay_on_the_primary(
    replica: str, children: dict[str, Child]
) -> None:
    with CaptureQueriesContext(connections[replica]) as there, transaction.atomic():
        assert service.find(asked("oliver")).candidates
    assert there.captured_queries == []


@pytest.mark.django_db(databases=WITH_REPLICA, transaction=True)
def test_a_write_sent_to_the_replica_fails(replica: str, children: dict[str, Child]) -> None:
    with pytest.raises(DatabaseError, match="read-only transaction"):
        Child.objects.using(replica).filter(pk=children["amelia"].pk).update(cpid="changed")
    assert Child.objects.get(pk=children["amelia"].pk).cpid == children["amelia"].cpid


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgres://reader:s3cret-pw@[replica", "is not a database URL"),
        ("sqlite:///s3cret-pw/replica.sqlite3", "must name a database on a PostgreSQL replica"),
    ],
)
def test_a_misconfigured_replica_url_stops_the_service_at_start(url: str, said: str) -> None:
    result = run_cli("keys", "status", check=False, env_extra={"CONTACTPOINT_REPLICA_URL": url})
    assert result.returncode == 2
    assert f"CONTACTPOINT_REPLICA_URL {said}" in result.stderr
    assert "s3cret" not in result.stderr and "Traceback" not in result.stderr
