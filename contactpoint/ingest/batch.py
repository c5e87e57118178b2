"""One batch of feed rows, inside the caller's transaction: validate, link, write.

A record already linked keeps its child; any other is matched by the linkage model
against the whole registry (contactpoint/linkage/realtime.py, docs/linkage.md): linked,
sent to review, held because it might be a shielded child, or made a new child. Every
decision is recorded with the model version that made it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Container
from dataclasses import dataclass, fields

from django.db import transaction
from django.utils import timezone

from contactpoint.ingest.models import LoadedFile, QuarantinedRow
from contactpoint.ingest.rows import SourceRow
from contactpoint.keystore import service as keys
from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto
from contactpoint.linkage import decisions
from contactpoint.linkage.realtime import SHIELD_FLOOR, Match, Matcher, founds_alone, too_thin
from contactpoint.linkage.records import LinkRecord, from_feed
from contactpoint.linkage.scorer import probability
from contactpoint.registry import (
    children,
    golden,
    involvements,
    origins,
    payloads,
    record_facts,
    shield_tags,
)
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.feeds import FeedRecord, Problem, RowParser
from contactpoint.registry.models import Source, SourceRecord
from contactpoint.registry.sources import REF_BYTES, record_ref

RECORD_FIELDS = [
    "child",
    "status",
    "method",
    "confidence",
    "as_at",
    "digest",
    "payload",
    "history",
    "origin",
    "updated_at",
]


@dataclass
class BatchResult:
    loaded: int = 0
    unchanged: int = 0
    rejected: int = 0
    fields_ignored: int = 0
    children_created: int = 0
    pending: int = 0
    held_near_shielded: int = 0
    in_review: int = 0

    def add(self, other: BatchResult) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class Item:
    line: int
    record: FeedRecord
    ref: bytes
    body: str  # the record as canonical JSON: digested, and sealed as the payload
    existing: SourceRecord | None = None
    child_id: uuid.UUID | None = None
    # How the record was placed, or while it has no child why it waits: "none" (nothing to
    # found a child on), "review" or "near_shielded". Only in memory: a waiting record is
    # stored with method `review` whatever the reason (the reason goes to its sealed
    # review item, decisions.waiting_reason).
    method: str = "none"
    match: Match | None = None
    sr_id: uuid.UUID = dataclasses.field(init=False)
    digest: bytes = dataclasses.field(init=False)
    link: LinkRecord = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.sr_id = derived_id("source-record-id/v1", self.ref)
        self.digest = content_digest(self.body)
        self.link = from_feed(str(self.sr_id), self.record)

    @property
    def held(self) -> bool:
        """Waiting for a person: in review, or might be a shielded child."""
        return self.method in ("near_shielded", "review")

    @property
    def confidence(self) -> float:
        """How sure the link is: 0 while waiting; for an update of a linked record, what it
        was linked with; the model's probability for its own link; 1 for a founding record
        and one joining it by the same identifier or name and birth date in its batch."""
        if self.child_id is None:
            return 0.0
        if self.existing is not None and self.existing.child_id == self.child_id:
            return self.existing.confidence
        if self.method == "model" and self.match and self.match.weight is not None:
            return probability(self.match.weight)
        return 1.0

    @property
    def owner(self) -> uuid.UUID:
        """Whose data key seals this record: its child's, or its own while unlinked."""
        return self.child_id or self.sr_id


def check_row(
    parser: RowParser, row: SourceRow, organisations: Container[str]
) -> tuple[FeedRecord | None, list[Problem]]:
    """A row as both loaders take it: its record (None when rejected) and every problem.

    The problems found translating it (a mapping's, FHIR's) come first; the standard
    checks then add those of the fields they did not name. A translation problem that
    rejects the row rejects the record.
    """
    if row.row is None:  # not a record at all: why, as its reader said, or its shape
        return None, list(row.problems) or [Problem("row", "has the wrong number of fields")]
    record = parser.parse(row.row)
    named = {p.field for p in row.problems}
    problems = [*row.problems, *(p for p in parser.problems if p.field not in named)]
    if any(p.rejects_row for p in row.problems):
        record = None
    if record is not None and record.org_code and record.org_code not in organisations:
        problems.append(Problem("org_code", "is not a known organisation"))
        record = None
    return record, problems


def founding_keys(
    record: FeedRecord, link: LinkRecord, twin_rule: bool | None = None
) -> list[tuple[str, str]]:
    """What a new child can be founded on: a valid identifier, else a real given name,
    family name and date of birth; none, and the record waits for a person.

    A record too thin to match safely (realtime.too_thin) founds nothing, whatever
    identifier it holds, unless the matcher found no child near it (`twin_rule` given:
    the model's) and it may found one alone (realtime.founds_alone): then on its names,
    date of birth and postcode as it has them.
    """
    if too_thin(link):
        if twin_rule is None or not founds_alone(link, twin_rule):
            return []
        return [("thin", f"{link.given_name}|{link.family_name}|{link.dob}|{link.postcode}")]
    ids = [(s, v) for s in ("nhs_number", "upn") if (v := getattr(record, s))]
    if not ids and link.given_name and link.family_name and link.dob:
        ids = [("demographics", f"{link.given_name}|{link.family_name}|{link.dob}")]
    return ids


def _to_shield(items: list[Item]) -> set[uuid.UUID]:
    """The children a batch's sensitive records shield: their own, and every child such a
    record might be but was not linked to. A child already in the registry that might be
    the same as a sensitive record is treated as shielded until a person decides."""
    shield: set[uuid.UUID] = set()
    for item in (i for i in items if i.record.sensitive):
        if item.child_id:
            shield.add(item.child_id)
        if item.match is not None:
            shield |= {c.child_id for c in item.match.candidates if c.score.weight > SHIELD_FLOOR}
    return shield


def derived_id(purpose: str, ref: bytes) -> uuid.UUID:
    """A row id derived from a record's keyed reference, so a batch run again after a crash
    recreates the same ids and reuses the data keys the first run already committed."""
    digest = crypto.keyed_digest(derived_key(purpose), ref)
    return uuid.UUID(bytes=digest[:16], version=4)


CANONICAL_JSON = json.JSONEncoder(sort_keys=True)  # what json.dumps(..., sort_keys=True) makes


def canonical_json(record: FeedRecord) -> str:
    return CANONICAL_JSON.encode(record.canonical())


def content_digest(body: str) -> bytes:
    """The keyed digest of a record's content (128 bits, as `sources.REF_BYTES`): the same
    digest again means the same record, nothing to write."""
    return crypto.keyed_digest(derived_key("source-record-digest/v1"), body.encode())[:REF_BYTES]


class BatchLoader:
    def __init__(self, source: Source, loaded: LoadedFile, today: dt.date | None = None) -> None:
        self.source = source
        self.loaded = loaded
        self.parser = RowParser(today or dt.date.today())
        self.result = BatchResult()
        self.quarantine: list[QuarantinedRow] = []
        self.organisations: dict[str, int] = {}  # code to id, read once per batch
        self.matcher = Matcher()

    def run(self, rows: list[SourceRow]) -> BatchResult:
        items = self._validate(rows)
        by_ref = {i.ref: i for i in items}  # a record sent twice in a batch: the last wins
        self.result.loaded += len(items) - len(by_ref)
        items = self._changed(list(by_ref.values()))
        # Sensitive records first, so a shielded child they create is already in the
        # registry when the rest of the batch, which may hold its near-duplicates, is
        # matched.
        for part in (
            [i for i in items if i.record.sensitive],
            [i for i in items if not i.record.sensitive],
        ):
            if part:
                self._resolve(part)
                self._write(part)
        QuarantinedRow.objects.bulk_create(self.quarantine, ignore_conflicts=True)
        return self.result

    def _validate(self, rows: list[SourceRow]) -> list[Item]:
        self.organisations = orgs = involvements.organisation_ids(
            {r.row["org_code"].strip() for r in rows if r.row and r.row["org_code"].strip()}
        )
        items = []
        for row in rows:
            line = row.line
            record, problems = check_row(self.parser, row, orgs)
            self.quarantine += [QuarantinedRow.for_problem(self.loaded, line, p) for p in problems]
            if record is None:
                self.result.rejected += 1
                continue
            self.result.fields_ignored += len(problems)
            items.append(
                Item(
                    line,
                    record,
                    record_ref(self.source.code, record.record_id),
                    canonical_json(record),
                )
            )
        return items

    def _changed(self, items: list[Item]) -> list[Item]:
        # The ref's HMAC input holds the source's code: another source's refs never match.
        existing = SourceRecord.objects.filter(record_ref__in=[i.ref for i in items])
        by_ref = {bytes(sr.record_ref): sr for sr in existing}
        changed = []
        for item in items:
            item.existing = by_ref.get(item.ref)
            if item.existing is not None and bytes(item.existing.digest) == item.digest:
                self.result.unchanged += 1
            else:
                changed.append(item)
        return changed

    def _resolve(self, items: list[Item]) -> None:
        """Find each record's child: the one it was linked to before, else by the model."""
        for item in items:
            if item.existing is not None and item.existing.child_id is not None:
                item.child_id, item.method = item.existing.child_id, item.existing.method
        open_items = [i for i in items if i.child_id is None]
        for item, match in zip(
            open_items,
            self.matcher.match([(i.sr_id, i.record, i.link) for i in open_items]),
            strict=True,
        ):
            item.match = match
            if match.action == "link":
                item.child_id, item.method = match.child_id, "model"
            elif match.action == "hold":
                item.method = "near_shielded"
                self.result.held_near_shielded += 1
            elif match.action == "review":
                item.method = "review"
                self.result.in_review += 1
        fresh = [i for i in open_items if i.match is not None and i.match.action == "new"]
        linked = {
            (s, v): i.child_id
            for i in items
            if i.child_id
            for s in ("nhs_number", "upn")
            if (v := getattr(i.record, s))
        }
        self._hold_near_shielded(fresh)
        self._new_children([i for i in fresh if not i.held], linked)

    def _hold_near_shielded(self, items: list[Item]) -> None:
        """A second, looser net: the same date of birth (or its swap) and a phonetic name of
        a shielded child holds the record even when the model scores it low."""
        for item, near in zip(
            items, children.near_shielded([i.record for i in items]), strict=True
        ):
            if near:
                item.method = "near_shielded"
                self.result.held_near_shielded += 1

    def _new_children(self, items: list[Item], linked: dict[tuple[str, str], uuid.UUID]) -> None:
        """Create one child per distinct person among records that matched no one.

        Records in one batch with the same NHS number or UPN, or with no identifier and
        the same standardised name and date of birth, become one child; a record sharing
        an identifier with one linked earlier in the batch joins that child. A record with
        neither an identifier nor a real given name waits for a person.
        """
        groups: dict[tuple[str, str], list[Item]] = {}
        for item in items:
            ids = founding_keys(item.record, item.link, self.matcher.model.twin_rule)
            if not ids:
                continue
            if known := next((k for k in ids if k in linked), None):
                item.child_id, item.method = linked[known], "model"
                continue
            group = next((groups[k] for k in ids if k in groups), [])
            group.append(item)
            for k in ids:
                groups.setdefault(k, group)
        distinct = list({id(g): g for g in groups.values()}.values())
        created = children.create_children([derived_id("child-id/v1", g[0].ref) for g in distinct])
        self.result.children_created += len(created)
        for group, (child, _) in zip(distinct, created, strict=True):
            for n, item in enumerate(group):
                item.child_id = child.id
                item.method = "new_child" if n == 0 else "model"

    def _ciphers(self, items: list[Item]) -> dict[uuid.UUID, ChildCipher]:
        """A cipher per owner; a record waiting for linkage gets a data key of its own."""
        ciphers = children.ciphers_for({i.owner for i in items})
        missing = {i.owner for i in items if i.owner not in ciphers and i.child_id is None}
        fresh = keys.ensure_data_keys(missing)
        return ciphers | {o: ChildCipher(o, k) for o, k in fresh.items()}

    def _write(self, items: list[Item]) -> None:
        ciphers = self._ciphers(items)
        for item in items:
            if item.owner not in ciphers:  # the child's key was destroyed: purged
                purged = Problem("record_id", "matches a purged child")
                self.quarantine.append(QuarantinedRow.for_problem(self.loaded, item.line, purged))
                self.result.rejected += 1
        items = [i for i in items if i.owner in ciphers]
        self._retire_addresses(items, ciphers)
        # Records that were waiting and are now linked: their payload is sealed under the
        # child's key from now on, so their own key is destroyed.
        released = [i.sr_id for i in items if i.child_id and i.existing and not i.existing.child_id]
        feed_involvements = involvements.FeedInvolvements(self.organisations)
        new: list[SourceRecord] = []
        updated: list[SourceRecord] = []
        for item in items:
            sr = item.existing or SourceRecord(id=item.sr_id, record_ref=item.ref)
            self._fill_record(sr, item, ciphers[item.owner])
            (updated if item.existing else new).append(sr)
            if item.child_id is not None:
                feed_involvements.add(ciphers[item.owner], sr.pk, item.record)
            else:
                self.result.pending += 1
            self.result.loaded += 1
        SourceRecord.objects.bulk_create(new, batch_size=500)
        SourceRecord.objects.bulk_update(updated, RECORD_FIELDS, batch_size=500)
        feed_involvements.flush()
        # Only once the registry has committed: a rollback must not lose the only key.
        transaction.on_commit(lambda: keys.destroy_data_keys(released))
        shield_tags.shield(_to_shield(items))
        golden.refresh(i.child_id for i in items if i.child_id is not None)
        decisions.record_automatic(
            [(i.sr_id, i.child_id, i.method, i.match) for i in items if i.match is not None],
            self.matcher.model,
        )

    @staticmethod
    def _retire_addresses(items: list[Item], ciphers: dict[uuid.UUID, ChildCipher]) -> None:
        """Keep the address a changed linked record stated in its history, ended the day of
        its new version (a linked record that changes keeps its child)."""
        for item in items:
            old = item.existing
            if old is None or old.child_id is None or old.child_id not in ciphers:
                continue
            cipher = ciphers[old.child_id]
            body = payloads.open_payload(cipher, old.pk, old.payload)
            if body is not None:
                before = FeedRecord.from_canonical(json.loads(body))
                record_facts.retire_address(cipher, old, before, item.record.as_at)

    def _fill_record(self, sr: SourceRecord, item: Item, cipher: ChildCipher) -> None:
        sr.child_id = item.child_id
        sr.status = "linked" if item.child_id else "pending"
        sr.method = item.method if item.child_id else SourceRecord.Method.REVIEW
        sr.confidence = item.confidence
        sr.as_at = item.record.as_at
        sr.digest = item.digest
        sr.payload = payloads.seal(cipher, sr.pk, item.body)
        sr.origin = origins.seal(cipher, sr.pk, self.source.pk)
        sr.updated_at = timezone.now()
