"""What a bulk first load makes of Splink's clusters: children, and records left waiting.

No registry database: the records are staged in the linkage DuckDB (`Staging`), beside the
tables `bulk.link_in` leaves there, because a national first load (28 million records)
cannot be held in Python. `plan` decides, in SQL, what each cluster becomes, and `chunks`
streams the clusters back in an order that never changes for the same records and model,
so a bulk load killed part-way and run again writes exactly the units the first run did
not (contactpoint/ingest/bulk/load.py):

- a cluster with a record flagged sensitive becomes a shielded child;
- a cluster with no record that could found a child (batch.founding_keys: none too thin
  to match safely, and an identifier or a real given name, family name and date of birth)
  stays waiting for a person, every record pending, in review as `insufficient`; so does a
  cluster holding two different valid NHS numbers or UPNs (`untrusted`), as `several`
  (its records are strongly like records of more than one child);
- a cluster with a review pair to a shielded child's record is held (it might be that
  child: a visible duplicate of a child in hiding must never be published), and so is one
  caught by the row loader's looser net (children.near_shielded): a record born on a
  shielded child's birth date, or its day-month swap, sharing a name key with it, however
  low Splink scored the pair;
- every other cluster becomes one child.

Shielded children come first, then the other children, then the waiting records, so the
children a waiting record's review candidates name are always written before it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from contactpoint.lib import dates, names
from contactpoint.linkage.realtime import KEEP
from contactpoint.linkage.records import LinkRecord, as_table

# Why a unit's records wait: its review items' reason. Not stored in clear: every waiting
# record's SourceRecord.method is `review`.
REVIEW, HELD = "review", "near_shielded"


@dataclass(slots=True)
class Parsed:
    """One valid record of the folder as read; everything else is in its canonical JSON."""

    seq: int  # load order across the folder: the NHS feed first, files by name, lines
    file: int  # index of the file it came from
    line: int
    ref: bytes  # batch.record_ref: the source's record id as a keyed digest
    sr_id: uuid.UUID  # the source record's id, derived from ref as batch.py does
    body: str  # canonical JSON: digested, and sealed as the payload
    founding: bool  # could found a child on its own
    sensitive: bool

    @property
    def uid(self) -> str:
        return str(self.sr_id)


@dataclass
class Unit:
    """One cluster: a child, or records waiting for a person. Written in one chunk."""

    key: str  # the cluster's id: its smallest record id, the record that founds the child
    records: list[Parsed]  # in load order
    shielded: bool = False
    waiting: str | None = None  # REVIEW or HELD when its records wait for a person
    insufficient: bool = False  # no record of it could found a child
    # For waiting records: record id to its candidate children, best first, each as
    # (the child's cluster key, Splink's weight, the record of that child it paired with).
    candidates: dict[str, list[tuple[str, float, str]]] = field(default_factory=dict)

    @property
    def is_child(self) -> bool:
        return self.waiting is None

    @property
    def reason(self) -> str:
        """The ReviewItem reason of its waiting records: never `review_band`, which names
        candidates between the thresholds that a waiting cluster need not have."""
        if self.waiting == HELD:
            return "shielded"
        return "insufficient" if self.insufficient else "several"

    @property
    def founder(self) -> Parsed:
        """The record whose id names the cluster (and derives the child's id)."""
        return next(r for r in self.records if r.uid == self.key)


_STAGED = pa.schema(
    [
        ("seq", pa.int64()),
        ("file", pa.int32()),
        ("line", pa.int64()),
        ("uid", pa.string()),
        ("ref", pa.binary()),
        ("founding", pa.bool_()),
        ("sensitive", pa.bool_()),
        ("body", pa.string()),
        ("birth", pa.string()),  # date of birth as ISO text, or null
        ("births", pa.list_(pa.string())),  # it and its day-month swap (the loose net)
        ("loose", pa.list_(pa.string())),  # names.loose_keys
    ]
)


class Batch:
    """Records staged together, as the two tables `Staging.append` takes. Pure: a reading
    process builds it, and only the tables travel to the process that holds DuckDB."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.links: list[LinkRecord] = []

    def add(self, parsed: Parsed, doc: Mapping[str, object], link: LinkRecord) -> None:
        """Stage one record: `doc` is its canonical form, `link` its linkage form."""
        birth = str(doc.get("date_of_birth") or "") or None
        self.rows.append(
            (
                parsed.seq,
                parsed.file,
                parsed.line,
                parsed.uid,
                parsed.ref,
                parsed.founding,
                parsed.sensitive,
                parsed.body,
                birth,
                sorted(dates.birth_date_texts(birth)) if birth else [],
                sorted(_loose_keys(doc)),
            )
        )
        self.links.append(link)

    def tables(self) -> tuple[pa.Table, pa.Table]:
        """cp_staged's rows and cp_input's (records.as_table's columns, and seq)."""
        columns: list[Sequence[Any]] = list(zip(*self.rows, strict=True)) or [[]] * len(_STAGED)
        staged = pa.table(
            [pa.array(c, f.type) for c, f in zip(columns, _STAGED, strict=True)], schema=_STAGED
        )
        links = as_table(self.links).append_column("seq", pa.array(columns[0], pa.int64()))
        return staged, links


class Staging:
    """The DuckDB tables cp_staged (what is written) and cp_input (what Splink links), to
    which batches of records are appended."""

    def __init__(self, con: Any) -> None:
        self.con = con
        staged, links = Batch().tables()
        self._append("cp_staged", staged, create=True)
        self._append("cp_input", links, create=True)

    def append(self, tables: tuple[pa.Table, pa.Table]) -> None:
        """Append a batch's tables (`Batch.tables`)."""
        staged, links = tables
        self._append("cp_staged", staged)
        self._append("cp_input", links)

    def _append(self, table: str, arrow: pa.Table, create: bool = False) -> None:
        self.con.register("cp_arrow", arrow)
        verb = f"CREATE TABLE {table} AS" if create else f"INSERT INTO {table}"
        self.con.execute(f"{verb} SELECT * FROM cp_arrow")  # noqa: S608 (our table names)
        self.con.unregister("cp_arrow")

    def close(self) -> int:
        """Keep the last of a record sent twice; return how many records there are.
        cp_input is then ready for bulk.link_in."""
        self.con.execute(
            "CREATE TEMP TABLE cp_last AS SELECT uid, max(seq) AS seq FROM cp_staged "
            "GROUP BY uid HAVING count(*) > 1"
        )
        for table, key in (("cp_staged", "uid"), ("cp_input", "unique_id")):
            self.con.execute(
                f"DELETE FROM {table} t USING cp_last l "  # noqa: S608
                f"WHERE l.uid = t.{key} AND t.seq < l.seq"
            )
        self.con.execute("DROP TABLE cp_last")
        self.con.execute("ALTER TABLE cp_input DROP COLUMN seq")
        [(count,)] = self.con.execute("SELECT count(*) FROM cp_staged").fetchall()
        return int(count)


def _loose_keys(doc: Mapping[str, object]) -> set[str]:
    return names.loose_keys(
        str(doc.get("given_name") or ""),
        str(doc.get("family_name") or ""),
        str(doc.get("former_family_name") or ""),
    )


# What each cluster becomes. Tables cp_staged (Staging), cp_clusters, cp_review and
# cp_untrusted (bulk.link_in) are read; cp_units and cp_near are made. Statement by
# statement, as the module docstring says.
_PLAN = """
CREATE OR REPLACE TABLE cp_units AS
  SELECT c.cluster AS key, bool_or(s.sensitive) AS shielded,
         NOT bool_or(s.founding) OR c.cluster IN (SELECT cluster FROM cp_untrusted) AS review,
         NOT bool_or(s.founding) AS insufficient, false AS held
  FROM cp_clusters c JOIN cp_staged s ON s.uid = c.record_id GROUP BY c.cluster;
CREATE OR REPLACE TEMP TABLE cp_pairs AS
  SELECT a AS mine, b AS other, weight FROM cp_review
  UNION ALL SELECT b, a, weight FROM cp_review;
UPDATE cp_units SET held = true WHERE key IN (
  SELECT cm.cluster FROM cp_pairs p
  JOIN cp_clusters cm ON cm.record_id = p.mine JOIN cp_units um ON um.key = cm.cluster
  JOIN cp_clusters co ON co.record_id = p.other JOIN cp_units uo ON uo.key = co.cluster
  WHERE uo.shielded AND NOT uo.review AND NOT um.shielded AND NOT um.review);
CREATE OR REPLACE TEMP TABLE cp_known AS
  SELECT u.key, NOT u.review AS child, min_by(s.uid, s.seq) AS first,
         list_distinct(flatten(list(s.loose))) AS keys,
         list_distinct(list(s.birth) FILTER (WHERE s.birth IS NOT NULL)) AS births
  FROM cp_units u JOIN cp_clusters c ON c.cluster = u.key JOIN cp_staged s ON s.uid = c.record_id
  WHERE u.shielded GROUP BY u.key, u.review;
CREATE OR REPLACE TEMP TABLE cp_known_births AS
  SELECT key, unnest(births) AS birth FROM cp_known;
CREATE OR REPLACE TABLE cp_near AS
  SELECT DISTINCT p.uid, p.unit, k.key AS shielded, k.first, k.child FROM (
    SELECT s.uid, c.cluster AS unit, unnest(s.births) AS birth, s.loose
    FROM cp_units u JOIN cp_clusters c ON c.cluster = u.key JOIN cp_staged s ON s.uid = c.record_id
    WHERE NOT u.shielded AND NOT u.review AND NOT u.held) p
  JOIN cp_known_births kb ON kb.birth = p.birth
  JOIN cp_known k ON k.key = kb.key
  WHERE len(list_intersect(p.loose, k.keys)) > 0;
UPDATE cp_units SET held = true WHERE key IN (SELECT unit FROM cp_near);
ALTER TABLE cp_units ADD COLUMN grp INTEGER;
UPDATE cp_units SET grp = CASE WHEN review OR held THEN 2 WHEN shielded THEN 0 ELSE 1 END;
DROP TABLE cp_known; DROP TABLE cp_known_births;
"""

# A waiting record's review pairs to children: (record, child's cluster, weight, the
# child's record it paired with).
_CANDIDATES = """
SELECT p.mine, co.cluster, p.weight, p.other FROM cp_pairs p
JOIN cp_clusters cm ON cm.record_id = p.mine JOIN cp_units um ON um.key = cm.cluster
JOIN cp_clusters co ON co.record_id = p.other JOIN cp_units uo ON uo.key = co.cluster
WHERE um.grp = 2 AND uo.grp < 2
"""

_ORDERED = """
SELECT u.key, u.grp, u.shielded, u.review, u.insufficient, s.seq, s.file, s.line, s.ref,
       s.uid, s.body, s.founding, s.sensitive
FROM cp_units u JOIN cp_clusters c ON c.cluster = u.key JOIN cp_staged s ON s.uid = c.record_id
ORDER BY u.grp, u.key, s.seq
"""


@dataclass
class Plan:
    """What `plan` decided: counts, the waiting records' candidates, and the records those
    candidates name (their bodies are scored again when the review item is written)."""

    units: int
    candidates: dict[str, list[tuple[str, float, str]]]
    named: dict[str, Parsed]  # by uid: candidates' records and their children's founders


NEAR = float("-inf")  # the weight given a loose net's candidate: Splink kept no pair


def plan(con: Any) -> Plan:
    """Decide what every cluster becomes (cp_units), and the waiting records' candidates."""
    con.execute(_PLAN)
    [(units,)] = con.execute("SELECT count(*) FROM cp_units").fetchall()
    best: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
    for mine, child, weight, other in con.execute(_CANDIDATES).fetchall():
        seen = best[mine].get(child)
        if seen is None or (weight, other) > seen:
            best[mine][child] = (float(weight), other)
    con.execute("DROP TABLE cp_pairs")
    candidates: dict[str, list[tuple[str, float, str]]] = {}
    for uid, children in best.items():
        ranked = sorted(children.items(), key=lambda kv: (-kv[1][0], kv[0]))[:KEEP]
        candidates[uid] = [(k, w, o) for k, (w, o) in ranked]
    near: dict[str, list[tuple[str, str]]] = defaultdict(list)
    rows = con.execute(
        "SELECT uid, shielded, first FROM cp_near WHERE child ORDER BY uid, shielded"
    )
    for uid, shielded, first in rows.fetchall():
        near[uid].append((shielded, first))
    for uid, found in near.items():
        candidates[uid] = _with_near(candidates.get(uid, []), found)
    return Plan(int(units), candidates, _named(con, candidates))


def _with_near(
    found: list[tuple[str, float, str]], near: list[tuple[str, str]]
) -> list[tuple[str, float, str]]:
    """A held record's candidates: its review pairs' children, best first, and every
    shielded child the loose net found it near, always kept."""
    named = {k for k, _, _ in found}
    extra = [(key, NEAR, other) for key, other in near if key not in named]
    return found[: max(KEEP - len(extra), 0)] + extra


def _named(con: Any, candidates: dict[str, list[tuple[str, float, str]]]) -> dict[str, Parsed]:
    """The staged records the candidates name: each child's founder and the paired record."""
    uids = sorted({u for found in candidates.values() for k, _, o in found for u in (k, o)})
    con.register("cp_wanted", pa.table({"uid": pa.array(uids, pa.string())}))
    rows = con.execute(
        "SELECT s.seq, s.file, s.line, s.ref, s.uid, s.body, s.founding, s.sensitive "
        "FROM cp_staged s JOIN cp_wanted USING (uid)"
    ).fetchall()
    con.unregister("cp_wanted")
    return {row[4]: _parsed(row) for row in rows}


def _parsed(row: tuple[Any, ...]) -> Parsed:
    seq, file, line, ref, uid, body, founding, sensitive = row
    return Parsed(seq, file, line, bytes(ref), uuid.UUID(uid), body, founding, sensitive)


def chunks(con: Any, planned: Plan, size: int) -> Iterator[list[Unit]]:
    """Every unit, in order (shielded children, children, waiting; each by cluster id),
    `size` at a time: each chunk is one transaction. Streamed: one chunk in memory."""
    rows = con.execute(_ORDERED)
    chunk: list[Unit] = []
    unit: Unit | None = None
    while batch := rows.fetchmany(10_000):
        for key, grp, shielded, review, insufficient, *record in batch:
            if unit is None or unit.key != key:
                if unit is not None and len(chunk) == size:
                    yield chunk
                    chunk = []
                waiting = None if grp < 2 else REVIEW if review else HELD
                unit = Unit(key, [], shielded, waiting, insufficient and waiting == REVIEW)
                chunk.append(unit)
            parsed = _parsed(tuple(record))
            unit.records.append(parsed)
            if unit.waiting and parsed.uid in planned.candidates:
                unit.candidates[parsed.uid] = planned.candidates[parsed.uid]
    if chunk:
        yield chunk
