"""Write one chunk of a bulk first load (bulkload.py) set-based, in one transaction.

Each unit of the chunk (bulkplan.py) becomes a child with every fact its records state,
or waiting records with a review item each. The rows are those the row loader writes
(batch.py): source records with the values `BatchLoader._fill_record` gives them (a
record's facts are its sealed payload), involvements through
`involvements.FeedInvolvements`, a hold decision per waiting record, and the golden record
(each record's `preferred` bits and the blind index entries) chosen by `golden.choose_new`
from the records in memory, all prepared before the chunk's transaction opens. Rows are
made as tuples and go in as tuples (registry/inserts.py): building a model instance and
preparing each value through Django cost more than the database's own work.

A record the load links to a child, or founds a child with, gets no `LinkDecision`: the
model's decision is the record's own `method` ("model" or "new_child") and `confidence`,
and the model version is on the load's files (`LoadedFile.model`); a row per record
repeating them was 2.5 rows a child (docs/adr/0013-lean-registry-layout.md). A waiting
record's hold is a decision, as the row loader's is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, transaction

from contactpoint.ingest.batch import content_digest, derived_id
from contactpoint.ingest.bulk.plan import Parsed, Unit
from contactpoint.ingest.models import LoadedFile
from contactpoint.ingest.rows import FeedError
from contactpoint.keystore import service as keys
from contactpoint.linkage.models import LinkDecision, ReviewItem
from contactpoint.linkage.records import LinkRecord, from_canonical
from contactpoint.linkage.review_items import ReviewCandidate, new_item
from contactpoint.linkage.scorer import probability
from contactpoint.linkage.store import ActiveModel
from contactpoint.registry import children, golden, involvements, origins, payloads, shield_tags
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.inserts import Inserter
from contactpoint.registry.models import Child, Organisation, Source, SourceRecord
from contactpoint.registry.record_facts import Stated

BATCH = 2000  # rows per INSERT (the backend lowers it where it must)
# A source record's row as `ChunkWriter._source_record` makes it, then its golden-record
# bits: every field the row loader fills (batch.RECORD_FIELDS, tests/unit/ingest).
RECORD_COLUMNS = (
    "id",
    "record_ref",
    "child_id",
    "status",
    "method",
    "confidence",
    "as_at",
    "digest",
    "payload",
    "history",
    "origin",
    "preferred",
)
Action = LinkDecision.Action


@dataclass
class Written:
    children: int = 0
    waiting: int = 0
    held: int = 0  # of the waiting: might be a shielded child


@dataclass
class _Rows:
    """What a chunk inserts, gathered before any of it is written."""

    records: list[tuple[Any, ...]] = field(default_factory=list)  # RECORD_COLUMNS but the last
    decisions: Inserter = field(
        default_factory=lambda: Inserter(
            LinkDecision, ("action", "source_record_id", "child_id", "model_id", "decided_by")
        )
    )
    items: list[ReviewItem] = field(default_factory=list)
    stated: list[Stated] = field(default_factory=list)  # the new children's records


def _lock(source_ids: list[int], first: uuid.UUID) -> None:
    """Lock what a chunk's transaction needs, and no more, so writers overlap.

    On PostgreSQL: the load's sources `FOR SHARE`, which writers of the same load share
    but which keeps out a row load of those sources (it locks them `FOR UPDATE`, loader.py)
    until the chunk commits; and the chunk itself, by a transaction-level advisory lock on
    its first record's id, so a second run of the same chunk (two loads of one folder at
    once) waits and then finds it written instead of failing on its keys. The chunk's
    commit need not wait for the disk (`synchronous_commit` off, for this transaction
    only): a crash of the server can lose only the last chunks committed, which the rerun
    writes again (their keys are in the key store, committed durably before). SQLite
    writes one transaction at a time anyway (immediate transactions).
    """
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(Source._meta.db_table)
    chunk = int.from_bytes(first.bytes[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR SHARE",  # noqa: S608
            [source_ids],
        )
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [chunk])


def _check_staged(parsed: Parsed) -> None:
    """Refuse a chunk whose first record was not staged as canonical JSON.

    The payloads are sealed as staged records' canonical JSON (bulk/read.py encodes them
    with the canonical encoder), without each being encoded again to check it
    (`payloads.compact`): were the staging ever to write another form, every record would
    be, so one a chunk tells.
    """
    if not payloads.is_canonical(parsed.body):
        raise FeedError("a staged record is not canonical JSON (bulk/read.py): not written")


def child_id(founder: Parsed) -> uuid.UUID:
    """The id of the child a record founds: the same in every run."""
    return derived_id("child-id/v1", founder.ref)


class ChunkWriter:
    def __init__(
        self, model: ActiveModel, loaded: list[LoadedFile], named: dict[str, Parsed]
    ) -> None:
        """Args: loaded: the LoadedFile of each file, by `Parsed.file`; named: by uid, the
        records waiting records' candidates name (bulkplan.Plan.named)."""
        self.model = model
        self.loaded = [lf.pk for lf in loaded]
        self.sources = [lf.source_id for lf in loaded]
        self.named = named
        self.organisations = dict(Organisation.objects.values_list("code", "id"))
        self.areas = involvements.council_areas()
        self.ranks = dict(Source.objects.values_list("id", "rank"))
        # Splink joined the record to its cluster by a pair at least this strong; the
        # weight of that pair is not kept, so this is a floor, never an overstatement.
        self.linked_confidence = probability(model.upper)

    def write(self, units: list[Unit]) -> Written | None:
        """Write the chunk, or return None when an earlier run committed it already.

        Everything is prepared (sealed, digested, chosen) before the transaction opens, so
        several processes can write chunks at once and hold the database's write lock
        only for the inserts (bulkload.py).
        """
        if SourceRecord.objects.filter(pk=units[0].records[0].sr_id).exists():
            return None
        _check_staged(units[0].records[0])
        born = {u.key: child_id(u.founder) for u in units if u.is_child}
        ciphers = self._ciphers(units, born)  # committed to the key store before the registry
        rows = _Rows()
        feed_involvements = involvements.FeedInvolvements(self.organisations, self.areas)
        written = Written()
        for unit in units:
            for parsed, doc, record in self._opened(unit):
                owner = born.get(unit.key, parsed.sr_id)
                cipher = ciphers[owner]
                self._record(rows, unit, parsed, doc, record, cipher, born.get(unit.key))
                if unit.is_child:
                    feed_involvements.add(cipher, parsed.sr_id, record)
            written.children += unit.is_child
            written.waiting += 0 if unit.is_child else len(unit.records)
            written.held += len(unit.records) if unit.reason == "shielded" else 0
        # Every record of a new child is in this chunk: its golden record is chosen here.
        preferred, entries = golden.choose_new(rows.stated)
        records = Inserter(SourceRecord, RECORD_COLUMNS)
        for row in rows.records:
            records.add(*row, preferred.get(row[0], 0))
        ready = [
            records,
            entries,
            rows.decisions,
            feed_involvements.new_children(),
        ]
        with transaction.atomic():
            _lock(sorted(set(self.sources)), units[0].records[0].sr_id)
            if SourceRecord.objects.filter(pk=units[0].records[0].sr_id).exists():
                return None  # another run got here first
            self._children(units, born)
            for inserter in ready:
                inserter.flush()
            ReviewItem.objects.bulk_create(rows.items, batch_size=BATCH)
        return written

    def _ciphers(
        self, units: list[Unit], born: dict[str, uuid.UUID]
    ) -> dict[uuid.UUID, ChildCipher]:
        """A data key per owner: a child's (`born`: cluster key to child id), or a waiting
        record's own; an existing key (from a run killed before its chunk committed) is
        reused, so no key is left orphaned."""
        owners = list(born.values())
        owners += [r.sr_id for u in units if not u.is_child for r in u.records]
        return {o: ChildCipher(o, k) for o, k in keys.ensure_data_keys(owners).items()}

    def _children(self, units: list[Unit], born: dict[str, uuid.UUID]) -> None:
        """Create the chunk's children: `born` is cluster key to child id."""
        founders = [u for u in units if u.is_child]
        cpids = children.issue_cpids(len(founders))
        inserter = Inserter(Child, ("id", "cpid"))
        inserter.add_many((born[u.key], c) for c, u in zip(cpids, founders, strict=True))
        inserter.flush()
        shield_tags.shield(born[u.key] for u in founders if u.shielded)

    def _opened(self, unit: Unit) -> Iterator[tuple[Parsed, Any, FeedRecord]]:
        """Each record, its canonical JSON parsed (once: read again for its payload) and
        as a feed record."""
        for parsed in unit.records:
            doc = json.loads(parsed.body)
            yield parsed, doc, FeedRecord.from_canonical(doc)

    def _record(
        self,
        rows: _Rows,
        unit: Unit,
        parsed: Parsed,
        doc: Any,
        record: FeedRecord,
        cipher: ChildCipher,
        child: uuid.UUID | None,
    ) -> None:
        """The source record; its facts, or its hold decision and review item."""
        founder = parsed.uid == unit.key
        # A waiting record's method is `review` whatever it waits for (SourceRecord.Method).
        method = "review" if unit.waiting else "new_child" if founder else "model"
        confidence = 0.0 if child is None else 1.0 if founder else self.linked_confidence
        row = self._source_record(parsed, doc, record, cipher, child, method, confidence)
        rows.records.append(row)
        if child is not None:
            rank = self.ranks[self.sources[parsed.file]]
            stated = Stated(parsed.sr_id, child, record, "", rank, record.as_at, confidence, 0)
            rows.stated.append(stated)
            return
        rows.decisions.add(
            Action.HOLD, parsed.sr_id, None, self.model.record.pk, LinkDecision.AUTOMATIC
        )
        candidates = self._candidates(parsed, unit.candidates.get(parsed.uid, []))
        rows.items.append(new_item(parsed.sr_id, unit.reason, candidates, self.model.record.pk))

    def _source_record(
        self,
        parsed: Parsed,
        doc: Any,
        record: FeedRecord,
        cipher: ChildCipher,
        child: uuid.UUID | None,
        method: str,
        confidence: float,
    ) -> tuple[Any, ...]:
        """A source record's row, as the row loader fills one (`BatchLoader._fill_record`):
        RECORD_COLUMNS but its golden-record bits, which are chosen later."""
        return (
            parsed.sr_id,
            parsed.ref,
            child,
            "linked" if child else "pending",
            method,
            confidence,
            record.as_at,
            content_digest(parsed.body),
            payloads.seal(cipher, parsed.sr_id, parsed.body, doc, encoded=True),
            None,  # history: a first load's records have stated no address before
            origins.seal(cipher, parsed.sr_id, self.sources[parsed.file]),
        )

    def _candidates(
        self, parsed: Parsed, found: list[tuple[str, float, str]]
    ) -> list[ReviewCandidate]:
        """The children a waiting record's review pairs reach, scored as real-time matching
        scores them (weight and the contribution of each comparison)."""
        mine = self._link(parsed)
        made = []
        for key, _, other in found:
            score = self.model.scorer.score(mine, self._link(self.named[other]))
            made.append(ReviewCandidate.for_score(child_id(self.named[key]), score))
        return made

    def _link(self, parsed: Parsed) -> LinkRecord:
        return from_canonical(parsed.uid, json.loads(parsed.body))
