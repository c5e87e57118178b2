"""What a bulk first load makes of clusters: hand-made clusters, staged in an in-memory
DuckDB beside hand-made linkage tables (what bulk.link_in leaves), no registry database."""

from __future__ import annotations

import json
import uuid
from typing import Any

import duckdb

from contactpoint.ingest.bulk.plan import (
    HELD,
    NEAR,
    REVIEW,
    Batch,
    Parsed,
    Staging,
    Unit,
    chunks,
    plan,
)
from contactpoint.linkage.records import from_canonical


def record(
    n: int, founding: bool = True, sensitive: bool = False, doc: dict[str, str] | None = None
) -> Parsed:
    sr_id = uuid.UUID(int=n)
    return Parsed(n, 0, n + 1, bytes([n]), sr_id, json.dumps(doc or {}), founding, sensitive)


def uid(n: int) -> str:
    return str(uuid.UUID(int=n))


def staged(
    clusters: dict[int, int],
    records: list[Parsed],
    review: list[tuple[int, int, float]] | None = None,
    untrusted: set[int] | None = None,
) -> Any:
    """A DuckDB connection holding the records staged and the linkage tables."""
    con = duckdb.connect()
    staging, batch = Staging(con), Batch()
    for r in records:
        doc = json.loads(r.body)
        batch.add(r, doc, from_canonical(r.uid, doc))
    staging.append(batch.tables())
    staging.close()
    con.execute("CREATE TABLE cp_clusters (record_id VARCHAR, cluster VARCHAR)")
    con.executemany(
        "INSERT INTO cp_clusters VALUES (?, ?)", [(uid(r), uid(c)) for r, c in clusters.items()]
    )
    con.execute("CREATE TABLE cp_review (l BIGINT, r BIGINT, a VARCHAR, b VARCHAR, weight DOUBLE)")
    for a, b, w in review or []:
        con.execute("INSERT INTO cp_review VALUES (0, 0, ?, ?, ?)", [uid(a), uid(b), w])
    con.execute("CREATE TABLE cp_untrusted (cluster VARCHAR)")
    for c in untrusted or set():
        con.execute("INSERT INTO cp_untrusted VALUES (?)", [uid(c)])
    return con


def planned_chunks(con: Any, size: int = 1000) -> list[list[Unit]]:
    return list(chunks(con, plan(con), size))


def planned(
    clusters: dict[int, int],
    records: list[Parsed],
    review: list[tuple[int, int, float]] | None = None,
    untrusted: set[int] | None = None,
) -> dict[str, Unit]:
    units = [u for c in planned_chunks(staged(clusters, records, review, untrusted)) for u in c]
    return {u.key: u for u in units}


def test_each_cluster_is_one_child_founded_by_its_smallest_record() -> None:
    units = planned({1: 1, 2: 1, 3: 3}, [record(2), record(1), record(3)])

    assert [r.seq for r in units[uid(1)].records] == [1, 2]  # load order
    assert all(u.is_child and not u.shielded for u in units.values())


def test_a_sensitive_record_shields_its_whole_cluster() -> None:
    units = planned({1: 1, 2: 1}, [record(1), record(2, sensitive=True)])

    assert units[uid(1)].shielded and units[uid(1)].is_child


def test_untrusted_clusters_and_clusters_that_cannot_found_a_child_wait_for_review() -> None:
    units = planned(
        {1: 1, 2: 1, 3: 3, 4: 4},
        [record(1), record(2), record(3, founding=False), record(4)],
        untrusted={1},
    )

    assert units[uid(1)].waiting == REVIEW and units[uid(3)].waiting == REVIEW
    assert units[uid(1)].reason == "several" and units[uid(3)].reason == "insufficient"
    assert units[uid(4)].is_child


def test_a_cluster_near_a_shielded_child_is_held_with_that_child_as_candidate() -> None:
    units = planned(
        {1: 1, 2: 2, 3: 3},
        [record(1, sensitive=True), record(2), record(3)],
        review=[(1, 2, -1.5), (2, 3, 0.5)],
    )

    assert units[uid(2)].waiting == HELD and units[uid(2)].reason == "shielded"
    assert units[uid(2)].candidates[uid(2)] == [(uid(3), 0.5, uid(3)), (uid(1), -1.5, uid(1))]
    assert units[uid(3)].is_child and not units[uid(3)].shielded


def test_the_loose_net_holds_a_record_near_a_shielded_child_that_splink_kept_apart() -> None:
    """No pair between them at all (Splink scored it below the review weight), yet born on
    the shielded child's birth date or its swap and sharing a name key: held, as the row
    loader's children.near_shielded holds it, with the shielded child as its candidate."""
    shielded = {"given_name": "Amelia", "family_name": "Hartley", "date_of_birth": "2015-03-04"}
    units = planned(
        {1: 1, 2: 2, 3: 3, 4: 4, 5: 5},
        [
            record(1, sensitive=True, doc=shielded),
            record(
                2, doc=dict(given_name="Zoe", family_name="Hartlee", date_of_birth="2015-04-03")
            ),
            record(3, doc=dict(given_name="Zoe", family_name="Smith", date_of_birth="2015-03-04")),
            record(4, doc={**shielded, "date_of_birth": "2016-03-04"}),
            record(
                5, doc=dict(given_name="Amelia", family_name="Smith", date_of_birth="2015-03-04")
            ),
        ],
        review=[(2, 3, -2.0)],
    )

    assert units[uid(2)].waiting == HELD and units[uid(5)].waiting == HELD
    assert units[uid(2)].candidates[uid(2)] == [(uid(3), -2.0, uid(3)), (uid(1), NEAR, uid(1))]
    assert units[uid(5)].candidates[uid(5)] == [(uid(1), NEAR, uid(1))]
    assert units[uid(3)].is_child and units[uid(4)].is_child  # other names; other year


def test_shielded_children_come_first_and_waiting_records_last() -> None:
    units = plan_order({1: 1, 2: 2, 3: 3}, [record(1), record(2, sensitive=True), record(3)])

    assert units == [uid(2), uid(1), uid(3)]


def plan_order(clusters: dict[int, int], records: list[Parsed]) -> list[str]:
    con = staged(clusters, records, untrusted={3})
    return [u.key for c in planned_chunks(con) for u in c]


def test_chunks_keep_the_order_and_cover_every_unit() -> None:
    con = staged({n: n for n in range(1, 6)} | {6: 1}, [record(n) for n in range(1, 7)])

    keys = [[u.key for u in c] for c in planned_chunks(con, size=2)]

    assert keys == [[uid(1), uid(2)], [uid(3), uid(4)], [uid(5)]]


def test_a_record_sent_twice_is_staged_once_as_last_sent() -> None:
    first, last = record(1, doc={"given_name": "Amy"}), record(1, doc={"given_name": "Ava"})
    last.seq = 9
    con = staged({1: 1}, [first, last])

    [[unit]] = planned_chunks(con)

    assert [r.body for r in unit.records] == [last.body]
    assert con.execute("SELECT given_name FROM cp_input").fetchall() == [("ava",)]


def test_a_record_without_a_birth_date_is_staged_and_waits_as_insufficient() -> None:
    """Staged with no birth date (none for the loose net either), beside a shielded child
    with its names: it founds nothing, and the net, which needs a birth date, holds it not."""
    names = {"given_name": "Amelia", "family_name": "Hartley"}
    units = planned(
        {1: 1, 2: 2},
        [
            record(1, sensitive=True, doc={**names, "date_of_birth": "2015-03-04"}),
            record(2, founding=False, doc=names),
        ],
    )

    assert units[uid(2)].waiting == REVIEW and units[uid(2)].reason == "insufficient"
    assert units[uid(2)].candidates == {}
