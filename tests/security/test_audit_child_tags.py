"""An audit event names its child by a keyed tag, never its id (ADR 0012): a stolen
database does not say which child was shielded, opened in an emergency or registered by
which organisation. The id is sealed with the salt and the details; the commitment still
covers it; `verify` checks that each tag is its sealed child's. A log written before the
tags is converted by migration `audit/0005_event_child_tag` and still verifies."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import uuid
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from contactpoint.audit import log, merkle
from contactpoint.audit.models import Event
from contactpoint.audit.verify import verify
from contactpoint.keystore import service as keystore
from contactpoint.lib import crypto
from tests.support.cli import run_cli
from tests.support.events import about

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("audit", "0004_checkpoint_frontier")]
SHIELDED = uuid.UUID("0d6a1b2c-3e4f-4a5b-8c6d-7e8f90a1b2c3")
OTHER = uuid.UUID("9e8d7c6b-5a49-4837-a625-14f3e2d1c0b9")
OCTOBER = dt.datetime(2026, 10, 31, 23, 59, 58, tzinfo=dt.UTC)  # the last seconds of a month
NOVEMBER = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def stored(table: str = "audit_event") -> list[tuple[object, ...]]:
    """Every stored value of the table, as a thief reading the database sees them."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed name)
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in cursor]


def clear_text(rows: list[tuple[object, ...]]) -> str:
    return " ".join(str(v) for row in rows for v in row if not isinstance(v, bytes))


def names(child: uuid.UUID, text: str) -> bool:
    """Whether the text holds the child's id as either database stores a UUID."""
    return str(child) in text or child.hex in text


def shielding(child: uuid.UUID, step: str) -> log.Entry:
    return log.Entry(
        f"child:shielding:{step}",
        "allowed",
        principal="user:1",
        role="local_index_team",
        organisation_id=3,
        child_id=child,
        details={"decision": "d-1"},
    )


def test_an_event_names_its_child_by_a_tag_and_seals_its_id() -> None:
    log.append(shielding(SHIELDED, "request"), NOVEMBER)
    log.append(shielding(OTHER, "request"), NOVEMBER + dt.timedelta(seconds=1))
    log.append(log.Entry("access:user:create", "allowed"), NOVEMBER + dt.timedelta(seconds=2))
    log.sign_checkpoint(NOVEMBER + dt.timedelta(seconds=3))
    rows = stored()
    # No column holds a child's id in any form; the action is there, the child is not.
    assert "child:shielding:request" in clear_text(rows)
    for child in (SHIELDED, OTHER):
        assert not names(child, clear_text(rows))
        assert not any(child.bytes in v for row in rows for v in row if isinstance(v, bytes))
    # Found by its tag, which needs the index key; the id is opened from the sealed body.
    (found,) = about(SHIELDED)
    assert found.child_tag is not None and len(found.child_tag) == 16
    assert bytes(found.child_tag) == log.child_tag(SHIELDED)
    assert found.child_id == SHIELDED
    assert log.child_tag(SHIELDED) != log.child_tag(OTHER)
    events = list(Event.objects.order_by("index"))
    assert log.children_of(events) == {0: SHIELDED, 1: OTHER}
    assert events[2].child_tag is None
    assert verify().ok


def test_an_event_moved_into_another_childs_history_is_found() -> None:
    for n, child in enumerate((SHIELDED, OTHER)):
        log.append(shielding(child, "approve"), NOVEMBER + dt.timedelta(seconds=n))
    log.sign_checkpoint(NOVEMBER + dt.timedelta(seconds=2))
    assert verify().ok
    # Whoever can write the database gives the shielded child's event the other's tag, so
    # that a family's report or an officer's history of the shielded child would miss it.
    Event.objects.filter(index=0).update(child_tag=log.child_tag(OTHER))
    assert not about(SHIELDED).exists()
    report = verify()
    assert report.problems == [
        "event 0: its child tag is not the tag of the child it was written about "
        "(moved into or out of a child's history)"
    ]
    Event.objects.filter(index=0).update(child_tag=None)  # or out of every history
    assert len(verify().problems) == 1


def _write_old(old: Any, child: uuid.UUID | None, index: int, at: dt.datetime) -> bytes:
    """One event as the log before child tags wrote it: the child's id in clear, the salt
    and details sealed; returns its leaf hash."""
    period = log.period_of(at)
    key = log.period_key(period)
    salt, details = os.urandom(32), {"decision": f"d-{index}"}
    event = old.get_model("audit", "Event")(
        index=index,
        at=at,
        action="child:shielding:approve" if child else "access:user:create",
        outcome="allowed",
        principal="user:1",
        role="local_index_team",
        organisation_id=3,
        purpose="",
        child_id=child,
        request_id=f"req-{index}",
        signals="",
        period=period,
    )
    body = json.dumps({"salt": base64.b64encode(salt).decode(), "details": details})
    event.sealed = crypto.seal(key, body.encode(), log.sealed_context(index))
    # The canonical form then named the child by its id column: the same text as now.
    event.commitment = hashlib.sha256(salt + log.canonical(event, child, details)).digest()
    event.save()
    return merkle.leaf_hash(event.commitment)


def test_the_migration_tags_an_existing_log_which_still_verifies() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        written = [
            (SHIELDED, OCTOBER),  # a month whose key is shredded below
            (SHIELDED, NOVEMBER),
            (OTHER, NOVEMBER + dt.timedelta(seconds=1)),
            (None, NOVEMBER + dt.timedelta(seconds=2)),
        ]
        frontier = merkle.Frontier()
        for index, (child, at) in enumerate(written):
            frontier = frontier.append(_write_old(old, child, index, at))
        old.get_model("audit", "Head").objects.create(
            pk=1, size=frontier.size, root=frontier.root(), frontier=b"".join(frontier.hashes)
        )
        log.sign_checkpoint(NOVEMBER + dt.timedelta(seconds=3))
        assert names(SHIELDED, clear_text(stored()))  # the leak this migration closes
        keystore.destroy_data_keys([log.period_owner("2026-10")])
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert "child_id" not in {c.name for c in _columns()}
    rows = stored()
    assert not names(SHIELDED, clear_text(rows))
    # Every event with a child is tagged, the shredded month's too; the others are opened.
    assert sorted(e.index for e in about(SHIELDED)) == [0, 1]
    assert [e.index for e in about(OTHER)] == [2]
    events = list(Event.objects.order_by("index"))
    assert log.children_of(events) == {1: SHIELDED, 2: OTHER}
    assert events[3].child_tag is None
    # The proofs hold: every commitment still matches, before and after the checkpoint.
    report = verify(now=NOVEMBER + dt.timedelta(seconds=4))
    assert report.ok, report.problems
    assert (report.events, report.shredded) == (4, {"2026-10": 1})
    log.append(shielding(OTHER, "review"), NOVEMBER + dt.timedelta(seconds=5))
    log.sign_checkpoint(NOVEMBER + dt.timedelta(seconds=6))
    assert verify(now=NOVEMBER + dt.timedelta(seconds=6)).ok
    done = run_cli("audit", "verify")
    assert "OK: 5 events" in done.stdout
    # A tamper drill on a converted event: its tag moved to another child is found.
    Event.objects.filter(index=1).update(child_tag=log.child_tag(OTHER))
    assert any(p.startswith("event 1: its child tag") for p in verify().problems)


def _columns() -> list[Any]:
    with connection.cursor() as cursor:
        return list(connection.introspection.get_table_description(cursor, "audit_event"))
