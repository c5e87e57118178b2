"""What a bulk first load makes of Splink's clusters: children, and records left waiting.

Pure: no database. `plan` turns `bulk.link`'s clusters into units written together, in an
order that never changes for the same records and model, so a bulk load killed part-way
and run again writes exactly the units the first run did not (contactpoint/ingest/bulkload.py):

- a cluster with a record flagged sensitive becomes a shielded child;
- a cluster holding two different valid NHS numbers or UPNs (`untrusted`), or with no record
  that could found a child (no identifier, and no real given name, family name and date of
  birth, as in batch.py), stays waiting for a person: every record pending, in review;
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

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from contactpoint.lib import dates, names
from contactpoint.linkage.bulk import BulkResult
from contactpoint.linkage.realtime import KEEP

REVIEW, HELD = "review", "near_shielded"  # SourceRecord.method of a waiting record


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
    # For waiting records: record id to its candidate children, best first, each as
    # (the child's cluster key, Splink's weight, the record of that child it paired with).
    candidates: dict[str, list[tuple[str, float, str]]] = field(default_factory=dict)

    @property
    def is_child(self) -> bool:
        return self.waiting is None

    @property
    def reason(self) -> str:
        """The ReviewItem reason of its waiting records."""
        return "shielded" if self.waiting == HELD else "review_band"


def plan(records: Mapping[str, Parsed], result: BulkResult) -> list[Unit]:
    """Every record of `result` in exactly one unit, in the order they are to be written.

    Args:
        records: record id (`Parsed.uid`) to the record.
        result: `bulk.link` over exactly these records.

    Returns:
        Shielded children, then children, then waiting units; each group by cluster id.
    """
    members: dict[str, list[Parsed]] = defaultdict(list)
    for uid, cluster in result.clusters.items():
        members[cluster].append(records[uid])
    units = [Unit(key, sorted(rs, key=lambda r: r.seq)) for key, rs in members.items()]
    for unit in units:
        unit.shielded = any(r.sensitive for r in unit.records)
        if unit.key in result.untrusted or not any(r.founding for r in unit.records):
            unit.waiting = REVIEW
    _hold_near_shielded(units, result)
    near = _hold_near_shielded_loosely(units)
    _add_candidates(units, result)
    for unit in units:
        for uid, found in near.get(unit.key, {}).items():
            unit.candidates[uid] = _with_near(unit.candidates.get(uid, []), found)
    return sorted(units, key=lambda u: (2 if u.waiting else 0 if u.shielded else 1, u.key))


def _hold_near_shielded(units: list[Unit], result: BulkResult) -> None:
    """Hold a would-be child with a review pair to a shielded child's record."""
    by_key = {u.key: u for u in units}
    shielded = {u.key for u in units if u.shielded and u.is_child}
    for left, right, _ in result.review:
        a, b = result.clusters[left], result.clusters[right]
        for mine, other in ((a, b), (b, a)):
            if other in shielded and mine not in shielded and by_key[mine].is_child:
                by_key[mine].waiting = HELD


NEAR = float("-inf")  # the weight given a loose net's candidate: Splink kept no pair


def _hold_near_shielded_loosely(units: list[Unit]) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """Hold every would-be child with a record near a shielded cluster's: born on one of
    its birth dates or the swap (dates.birth_date_variants), and sharing a name key with
    it (names.loose_keys), as children.near_shielded does for the row loader.

    Returns: unit key to record id to the shielded children it is near, as (child's cluster
    key, its first record): the held record's candidates.
    """
    known: dict[str, list[tuple[Unit, set[str]]]] = defaultdict(list)  # by birth date
    for unit in units:
        if unit.shielded:  # waiting too: a sensitive record no one has placed yet
            docs = [json.loads(r.body) for r in unit.records]
            keys = set().union(*(_loose_keys(d) for d in docs))
            for birth in {d.get("date_of_birth") for d in docs} - {None, ""}:
                known[str(birth)].append((unit, keys))
    near: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(dict)
    for unit in units if known else ():
        if unit.shielded or not unit.is_child:
            continue
        for record in unit.records:
            doc = json.loads(record.body)
            birth = doc.get("date_of_birth")
            births = dates.birth_date_texts(birth) if birth else frozenset()
            others = [o for b in births for o in known.get(b, ())]
            mine = _loose_keys(doc) if others else set()
            found = [(other, other.records[0].uid) for other, keys in others if keys & mine]
            if found:  # candidates only among children: a waiting unit has none to name
                near[unit.key][record.uid] = [(o.key, r) for o, r in found if o.is_child]
        if unit.key in near:
            unit.waiting = HELD
    return near


def _loose_keys(doc: dict[str, str | None]) -> set[str]:
    return names.loose_keys(
        doc.get("given_name") or "",
        doc.get("family_name") or "",
        doc.get("former_family_name") or "",
    )


def _with_near(
    found: list[tuple[str, float, str]], near: list[tuple[str, str]]
) -> list[tuple[str, float, str]]:
    """A held record's candidates: its review pairs' children, best first, and every
    shielded child the loose net found it near, always kept."""
    named = {k for k, _, _ in found}
    extra = [(key, NEAR, other) for key, other in near if key not in named]
    return found[: max(KEEP - len(extra), 0)] + extra


def _add_candidates(units: list[Unit], result: BulkResult) -> None:
    """Give each waiting record the children its review pairs reach, best first."""
    by_key = {u.key: u for u in units}
    best: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
    for left, right, weight in result.review:
        for mine, other in ((left, right), (right, left)):
            unit, theirs = by_key[result.clusters[mine]], by_key[result.clusters[other]]
            if unit.waiting and theirs.is_child:
                seen = best[mine].get(theirs.key)
                if seen is None or (weight, other) > seen:
                    best[mine][theirs.key] = (weight, other)
    for uid, children in best.items():
        ranked = sorted(children.items(), key=lambda kv: (-kv[1][0], kv[0]))[:KEEP]
        by_key[result.clusters[uid]].candidates[uid] = [(k, w, o) for k, (w, o) in ranked]


def chunks(units: Sequence[Unit], size: int) -> Iterator[list[Unit]]:
    """Consecutive units, `size` at a time: each chunk is one transaction."""
    for start in range(0, len(units), size):
        yield list(units[start : start + size])
