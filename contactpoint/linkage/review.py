"""The review queue and the decisions a local index team makes (docs/review.md).

Each decision is one transaction that checks everything before it changes anything,
records a LinkDecision naming the person and the active model, and closes the review item
it answers. Records move between children with `relink` (relink.py). Messages name ids,
contactpoint IDs and counts, never a child's data.

Each decision writes its audit event (`linkage:review:<decision>`, docs/audit.md) inside its
transaction, once its checks pass and before it changes anything: when the event cannot
be written, AuditUnavailable is raised and nothing is changed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from contactpoint.access.users import cli_operator
from contactpoint.audit import log as audit_log
from contactpoint.lib.errors import Refusal
from contactpoint.lib.identifiers import InvalidIdentifier, validate_cpid
from contactpoint.linkage import store
from contactpoint.linkage.models import LinkBlock, LinkDecision, ReviewItem
from contactpoint.linkage.realtime import SHIELD_FLOOR, Matcher, scores_for
from contactpoint.linkage.records import from_feed
from contactpoint.linkage.relink import Opened, PayloadGone, open_records, relink_many
from contactpoint.linkage.review_items import About, ReviewCandidate, about, abouts, new_item
from contactpoint.registry import children
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.golden import GoldenRecord, golden_record
from contactpoint.registry.models import Child, Source, SourceRecord

Action = LinkDecision.Action
LINKABLE = (Child.Status.ACTIVE, Child.Status.SEALED)


class ReviewError(Refusal):
    """A decision refused, or something unknown named: nothing was changed."""


# --- reading the queue -------------------------------------------------------------------


@dataclass(frozen=True)
class QueueEntry:
    item_id: uuid.UUID
    reason: str
    created_at: dt.datetime
    candidates: int
    best_weight: float | None


def open_items(reason: str | None = None) -> list[QueueEntry]:
    """Open review items, oldest first. Ids, reasons and weights only: no child data."""
    items = list(
        ReviewItem.objects.filter(status=ReviewItem.Status.OPEN).order_by("created_at", "id")
    )
    return entries(items, abouts(items), reason)


def entries(
    items: Iterable[ReviewItem], opened: dict[uuid.UUID, About], reason: str | None = None
) -> list[QueueEntry]:
    """The queue's lines for these items, in their order, of one reason or all.

    The reason is sealed (review_items): the caller opens the items, and the reason is
    compared here."""
    return [
        QueueEntry(i.pk, a.reason, i.created_at, len(a.candidates), a.best_weight)
        for i, a in ((i, opened[i.pk]) for i in items)
        if not reason or a.reason == reason
    ]


@dataclass(frozen=True)
class Listed:
    """A candidate of an item, with its child."""

    child: Child
    weight: float
    contributions: tuple[tuple[str, str, float], ...]

    @property
    def child_id(self) -> uuid.UUID:
        return self.child.pk


def listed(item: ReviewItem) -> list[Listed]:
    """The item's candidates with their children, best first (then by cpid): as numbered
    in `review show` and on the web."""
    return with_children(about(item))


def with_children(opened: About) -> list[Listed]:
    found = opened.candidates
    children = Child.objects.in_bulk([c.child_id for c in found])
    rows = [
        Listed(children[c.child_id], c.weight, c.contributions)
        for c in found
        if c.child_id in children
    ]
    return sorted(rows, key=lambda c: (-c.weight, c.child.cpid))


@dataclass(frozen=True)
class CandidateView:
    """A candidate child. For a shielded or sealed child everything but `number` is None."""

    number: int
    protected: bool
    ruled_out: bool  # a person marked it not a match
    cpid: str | None
    status: str | None
    weight: float | None
    contributions: tuple[tuple[str, str, float], ...]
    golden: GoldenRecord | None


@dataclass(frozen=True)
class ItemView:
    item_id: uuid.UUID
    reason: str
    status: str
    source: str
    record: FeedRecord
    candidates: tuple[CandidateView, ...]


def item_view(item_id: str) -> ItemView:
    """The waiting record and each candidate's golden record, for a person to compare.

    Audited before anything is returned (`linkage:review:show`, one event per candidate,
    or one with no child): the caller shows nothing when AuditUnavailable is raised.
    """
    item = _item(item_id, for_update=False)
    sr = SourceRecord.objects.get(pk=item.source_record_id)
    shown = _opened(sr)
    record = shown.record
    blocked = record_blocks(sr.pk)
    opened = about(item)
    candidates = with_children(opened)
    views = tuple(_candidate_view(n, c, c.child_id in blocked) for n, c in enumerate(candidates, 1))
    _audit_show(item, sr, candidates)
    source = Source.objects.get(pk=shown.source_id).code
    return ItemView(item.pk, opened.reason, item.status, source, record, views)


def _audit_show(item: ReviewItem, sr: SourceRecord, candidates: list[Listed]) -> None:
    ids = {"review_item": str(item.pk), "source_record": str(sr.pk)} | cli_operator()
    shown: list[tuple[uuid.UUID | None, bool]] = [
        (c.child_id, _protected(c.child)) for c in candidates
    ] or [(None, False)]
    audit_log.append_many(
        [
            audit_log.entry(
                None,
                "linkage:review:show",
                child_id=child,
                details=ids | ({"withheld": True} if withheld else {}),
            )
            for child, withheld in shown
        ]
    )


def _candidate_view(number: int, c: Listed, ruled_out: bool) -> CandidateView:
    child = c.child
    if _protected(child):
        return CandidateView(number, True, ruled_out, None, None, None, (), None)
    parts = tuple((str(a), str(b), float(w)) for a, b, w in c.contributions)
    return CandidateView(
        number, False, ruled_out, child.cpid, child.status, c.weight, parts,
        golden_record(child.pk),
    )  # fmt: skip


# --- deciding an item --------------------------------------------------------------------


def link(item_id: str, child_ref: str, by: str) -> LinkDecision:
    """Link the item's record to one of its candidates (by cpid or candidate number)."""
    by = person(by)
    with transaction.atomic():
        item, sr = _open_item(item_id)
        candidate = _candidate(item, child_ref)
        child = candidate.child
        if child.status not in LINKABLE:
            raise ReviewError(f"{child.cpid} is {child.status}: it cannot take records")
        if child.pk in record_blocks(sr.pk):
            raise ReviewError(f"{child.cpid} was marked not a match for this record")
        audited("link", child.pk, review_item=item.pk, source_record=sr.pk)
        move([sr], child.pk, SourceRecord.Method.PERSON, 1.0)
        close(item)
        return decide(Action.LINK, by, sr=sr, child=child.pk, weight=candidate.weight)


def new_child(item_id: str, by: str) -> tuple[LinkDecision, str]:
    """Make a new child of the item's record. Returns the decision and the new cpid.

    Refused for a record without a date of birth (a child needs one: link the record, or
    wait for a fuller one), and while a shielded or sealed candidate scored above the
    shield floor and has not been marked not a match: a new, visible child must never be
    made of a child in hiding.
    """
    by = person(by)
    with transaction.atomic():
        item, sr = _open_item(item_id)
        if _opened(sr).record.date_of_birth is None:
            raise ReviewError(
                f"the record of review item {item.pk} has no date of birth: a child needs "
                "one, so link it to a candidate or wait for a fuller record"
            )
        _no_shielded_child_near(item, sr)
        new_id = uuid.uuid4()
        audited("new-child", new_id, review_item=item.pk, source_record=sr.pk)
        child, _ = children.create_children([new_id])[0]
        move([sr], child.pk, SourceRecord.Method.NEW_CHILD, 1.0)
        close(item)
        return decide(Action.NEW_CHILD, by, sr=sr, child=child.pk), child.cpid


def _no_shielded_child_near(item: ReviewItem, sr: SourceRecord) -> None:
    """Refuse a new child while the record might be a shielded or sealed child.

    Each such candidate above the shield floor must be ruled out first. The looser
    near-shielded net (`children.near_shielded`) names no child: when it still fires and
    no protected candidate was ruled out, the shielded child it found is not among the
    candidates, so the record cannot be made a new child here at all.
    """
    blocked = record_blocks(sr.pk)
    ruled_out = False
    for n, c in enumerate(listed(item), 1):
        if _protected(c.child) and c.weight > SHIELD_FLOOR:
            if c.child_id not in blocked:
                raise ReviewError(
                    f"candidate {n} is a shielded child who might be this one: link the "
                    "record to it or mark it not a match first"
                )
            ruled_out = True
    if not ruled_out and children.near_shielded([_opened(sr).record])[0]:
        raise ReviewError(
            "the record is near a shielded child who is not among its candidates: it "
            "cannot be made a new child (ask an index administrator)"
        )


def not_a_match(item_id: str, child_ref: str, by: str) -> LinkDecision:
    """Block one candidate for the item's record: the matcher never proposes it again.

    The item stays open: the record still needs a child, or a new one.
    """
    by = person(by)
    with transaction.atomic():
        item, sr = _open_item(item_id)
        candidate = _candidate(item, child_ref)
        if candidate.child_id in record_blocks(sr.pk):
            raise ReviewError(f"candidate {child_ref} is already marked not a match")
        audited("not-a-match", candidate.child_id, review_item=item.pk, source_record=sr.pk)
        decision = decide(
            Action.NOT_A_MATCH, by, sr=sr, child=candidate.child_id, weight=candidate.weight
        )
        LinkBlock.objects.create(
            child_id=candidate.child_id,
            source_record=sr,
            reason=LinkBlock.Reason.NOT_A_MATCH,
            decision=decision,
        )
        return decision


def unlink(record_id: str, by: str) -> tuple[LinkDecision, uuid.UUID]:
    """Take a record off its child, back to waiting, with a new review item."""
    by = person(by)
    with transaction.atomic():
        sr = source_record(record_id)
        if sr.child_id is None:
            raise ReviewError(f"source record {sr.pk} is not linked to a child")
        audited("unlink", sr.child_id, source_record=sr.pk)
        return take_off(sr, by, reverses=None)


def take_off(
    sr: SourceRecord, by: str, reverses: LinkDecision | None
) -> tuple[LinkDecision, uuid.UUID]:
    """Unlink inside the caller's transaction. Returns the decision and the new item's id."""
    came_from = sr.child_id
    opened = move([sr], None, SourceRecord.Method.REVIEW, 0.0)[sr.pk]
    item = queue(sr, opened.record, came_from)
    decision = decide(Action.UNLINK, by, sr=sr, other=came_from, reverses=reverses)
    return decision, item.pk


def blocked_pairs(child_ids: Iterable[uuid.UUID]) -> set[frozenset[uuid.UUID]]:
    """Pairs of children that matching must never join (an identity change), among any
    pair involving one of `child_ids`."""
    ids = list(set(child_ids))
    rows = LinkBlock.objects.filter(other_child__isnull=False).filter(
        Q(child_id__in=ids) | Q(other_child_id__in=ids)
    )
    return {frozenset((a, b)) for a, b in rows.values_list("child_id", "other_child_id") if b}


# --- shared steps ------------------------------------------------------------------------


def audited(kind: str, child: uuid.UUID | None, **details: Any) -> None:
    """Write the audit event of a person's decision about `child` (its internal id), inside
    the decision's transaction and before it changes anything.

    Ids only, never a child's data, nor the --by text (free text could hold anything): the
    decision's LinkDecision names the person. Decisions are made at the command line, which
    has no signed-in principal, so the event names the operating-system account.

    Raises:
        AuditUnavailable: the event could not be written; the caller's transaction, and so
            the decision, is rolled back.
    """
    sealed = {k: str(v) for k, v in details.items() if v is not None} | cli_operator()
    event = audit_log.entry(None, f"linkage:review:{kind}", child_id=child, details=sealed)
    audit_log.append(event)


def person(by: str) -> str:
    name = " ".join(by.split())
    if not name:
        raise ReviewError("--by must name the person deciding")
    if len(name) > 80:
        raise ReviewError("--by is longer than 80 characters")
    return name


def decide(
    action: str,
    by: str,
    *,
    sr: SourceRecord | None = None,
    child: uuid.UUID | None = None,
    other: uuid.UUID | None = None,
    moved: Iterable[uuid.UUID] = (),
    weight: float | None = None,
    reverses: LinkDecision | None = None,
) -> LinkDecision:
    return LinkDecision.objects.create(
        action=action,
        source_record=sr,
        child_id=child,
        other_child_id=other,
        moved=[str(m) for m in moved],
        model=store.active().record,
        weight=weight,
        decided_by=person(by),
        reverses=reverses,
    )


def move(
    records: Sequence[SourceRecord],
    to_child: uuid.UUID | None,
    method: str | None = None,
    confidence: float | None = None,
) -> dict[uuid.UUID, Opened]:
    """`relink_many`, with a record that can no longer be opened as a refusal."""
    try:
        return relink_many(records, to_child, method, confidence)
    except PayloadGone as exc:
        raise ReviewError(str(exc)) from None


def _opened(sr: SourceRecord) -> Opened:
    try:
        return open_records([sr])[sr.pk]
    except PayloadGone as exc:
        raise ReviewError(str(exc)) from None


def close(item: ReviewItem) -> None:
    item.status = ReviewItem.Status.DECIDED
    item.decided_at = timezone.now()
    item.save(update_fields=["status", "decided_at"])


def close_items_of(sr: SourceRecord) -> None:
    """Close the record's open review item, if it has one: a decision answered it."""
    ReviewItem.objects.filter(source_record=sr, status=ReviewItem.Status.OPEN).update(
        status=ReviewItem.Status.DECIDED, decided_at=timezone.now()
    )


def _protected(child: Child) -> bool:
    return child.shielded or child.status == Child.Status.SEALED


def record_blocks(sr_id: uuid.UUID) -> set[uuid.UUID]:
    return set(LinkBlock.objects.filter(source_record_id=sr_id).values_list("child_id", flat=True))


M = TypeVar("M", bound=Model)


def parse_id(text: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise ReviewError(f"unknown {what} {text!r}") from None


def by_id(rows: QuerySet[M], text: str, what: str) -> M:
    """The row whose id the person typed, or a ReviewError naming what was not found."""
    found = rows.filter(pk=parse_id(text, what)).first()
    if found is None:
        raise ReviewError(f"unknown {what} {text!r}")
    return found


def _item(item_id: str, for_update: bool = True) -> ReviewItem:
    rows = ReviewItem.objects.select_for_update() if for_update else ReviewItem.objects.all()
    return by_id(rows, item_id, "review item")


def _open_item(item_id: str) -> tuple[ReviewItem, SourceRecord]:
    item = _item(item_id)
    if item.status != ReviewItem.Status.OPEN:
        raise ReviewError(f"review item {item.pk} is already decided")
    sr = SourceRecord.objects.select_for_update().get(pk=item.source_record_id)
    if sr.child_id is not None:
        raise ReviewError(f"the record of review item {item.pk} is already linked")
    return item, sr


def source_record(record_id: str) -> SourceRecord:
    return by_id(SourceRecord.objects.select_for_update(), record_id, "source record")


def child_by_cpid(text: str) -> Child:
    try:
        cpid = validate_cpid(text)
    except InvalidIdentifier:
        raise ReviewError("not a contactpoint ID: CP- and 13 characters") from None
    child = Child.objects.select_for_update().filter(cpid=cpid).first()
    if child is None:
        raise ReviewError(f"unknown contactpoint ID {cpid}")
    return child


def _candidate(item: ReviewItem, ref: str) -> Listed:
    """A candidate by its number in `review show`, or by its child's cpid."""
    found = listed(item)
    if ref.strip().isdigit():
        n = int(ref)
        if not 1 <= n <= len(found):
            raise ReviewError(f"review item {item.pk} has no candidate {n}")
        return found[n - 1]
    child = child_by_cpid(ref)
    match = next((c for c in found if c.child_id == child.pk), None)
    if match is None:
        raise ReviewError(f"{child.cpid} is not a candidate of review item {item.pk}")
    return match


def queue(sr: SourceRecord, record: FeedRecord, came_from: uuid.UUID | None) -> ReviewItem:
    """A review item for a record back to waiting, with the children it might be.

    The matcher's candidates, and the child it came from (the matcher lists none when it
    would link), so a person can always put it back.
    """
    model = store.active()
    link_record = from_feed(str(sr.pk), record)
    match = Matcher().match([(sr.pk, record, link_record)])[0]
    scores = {c.child_id: c.score for c in match.candidates}
    blocked = record_blocks(sr.pk)
    extra = {came_from, match.child_id} - {None} - scores.keys() - blocked
    scores |= scores_for(link_record, {c for c in extra if c is not None})
    reason = match.reason or ReviewItem.Reason.REVIEW_BAND
    candidates = [ReviewCandidate.for_score(child, score) for child, score in scores.items()]
    item = new_item(sr.pk, reason, candidates, model.record.pk)
    item.save(force_insert=True)
    return item
